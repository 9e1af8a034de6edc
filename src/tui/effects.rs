//! The side effects the TUI asks for: copying (OSC 52), the pager, exporting the filtered
//! events, and the saved filters file. Everything here runs in the app loop or on a blocking
//! thread, never in `update` or `draw`.

use crate::model::columns;
use crate::model::raw::RawReader;
use crate::print::{read_event_ids, write_compact, write_csv_row, Unread};
use crate::query::run::SharedStore;
use crate::sanitize::sanitize;
use base64::Engine as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard. It travels
/// over SSH like any output, which is why it works from a bastion host. Inside tmux it is
/// passed through to the outer terminal as well (when tmux allows passthrough).
pub fn osc52(text: &str, in_tmux: bool) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let seq = format!("\x1b]52;c;{b64}\x07");
    if in_tmux {
        // tmux takes the plain sequence itself (set-clipboard on) and forwards the wrapped
        // one to the terminal around it (allow-passthrough on).
        format!("{seq}\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq
    }
}

/// Whether the terminal can be expected to take OSC 52 at all.
pub fn clipboard_likely() -> bool {
    use std::io::IsTerminal;
    let term = std::env::var("TERM").unwrap_or_default();
    io::stdout().is_terminal() && !matches!(term.as_str(), "" | "dumb" | "linux")
}

/// Copies `text`; returns the notice for the status bar. When the terminal cannot take OSC 52
/// the value itself is shown (short values) or written to a private file (records), so the
/// user can still get at it.
pub fn copy(label: &str, text: &str) -> String {
    if clipboard_likely() {
        let seq = osc52(text, std::env::var_os("TMUX").is_some());
        let mut out = io::stdout().lock();
        if out.write_all(seq.as_bytes()).and_then(|_| out.flush()).is_ok() {
            let shown = if text.len() <= 80 { format!(": {text}") } else { format!(" ({} bytes)", text.len()) };
            return format!("copied the {label} (OSC 52){shown}");
        }
    }
    if text.len() <= 200 && !text.contains('\n') {
        return format!("this terminal does not take OSC 52; the {label} is {text}");
    }
    copy_to_file(label, text)
}

/// The copy fallback for values too long for the status bar: a private file, kept until
/// trailscope exits.
fn copy_to_file(label: &str, text: &str) -> String {
    match private_temp_file("trailscope-copy-", text) {
        Ok(path) => {
            let notice = format!(
                "this terminal does not take OSC 52; the {label} is in {} (removed when trailscope exits)",
                path.display()
            );
            keep_until_exit(path);
            notice
        }
        Err(e) => format!("could not copy the {label}: {e}"),
    }
}

/// A new file holding `text` in the temporary directory, the user's alone: a random name
/// created exclusively (a file or link planted there by someone else is never followed or
/// written over), mode 0600. It is removed when the returned path is dropped.
fn private_temp_file(prefix: &str, text: &str) -> io::Result<tempfile::TempPath> {
    let mut file = tempfile::Builder::new().prefix(prefix).suffix(".json").rand_bytes(12).tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    Ok(file.into_temp_path())
}

/// Files that must outlive the notice naming them; removed when the TUI ends
/// ([`remove_kept_files`]).
static KEPT_UNTIL_EXIT: std::sync::Mutex<Vec<tempfile::TempPath>> = std::sync::Mutex::new(Vec::new());

fn keep_until_exit(path: tempfile::TempPath) {
    KEPT_UNTIL_EXIT.lock().unwrap_or_else(|p| p.into_inner()).push(path);
}

/// Removes the files kept for notices (dropping a `TempPath` removes its file, ignoring
/// errors). Called when the TUI ends, on every way out of it.
pub fn remove_kept_files() {
    KEPT_UNTIL_EXIT.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// A record, pretty-printed, with every line sanitised: for the pager and the clipboard.
pub fn pretty_record(bytes: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned()),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    };
    text.lines().map(|l| sanitize(l).into_owned()).collect::<Vec<_>>().join("\n") + "\n"
}

/// Runs `$PAGER` (else `less`) on `text`, with the terminal handed over to it. The caller
/// restores its own screen afterwards.
pub fn run_pager(text: &str) -> Result<(), String> {
    let pager = std::env::var("PAGER").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "less".into());
    run_pager_with(&pager, text)
}

/// Runs the shell command `pager` on a file holding `text`.
fn run_pager_with(pager: &str, text: &str) -> Result<(), String> {
    let path = private_temp_file("trailscope-record-", text)
        .map_err(|e| format!("could not write a file in {}: {e}", std::env::temp_dir().display()))?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{pager} \"$1\""))
        .arg("sh")
        .arg(&*path)
        .spawn()
        .and_then(|child| wait_following_stops(rustix::process::Pid::from_child(&child)));
    drop(path);
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{pager} exited with {s}")),
        Err(e) => Err(format!("could not run {pager}: {e}")),
    }
}

/// Set when the pager was stopped (Ctrl-Z in it) and this process stopped with it.
static PAGER_STOPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the pager stopped since this was last asked: the SIGTSTP that stopped it reached
/// this process too, and must not suspend it a second time once the pager is done.
pub fn take_pager_stopped() -> bool {
    PAGER_STOPPED.swap(false, std::sync::atomic::Ordering::SeqCst)
}

/// Waits for the pager to end. Ctrl-Z in the pager stops it, but not this process (which
/// takes SIGTSTP to give its terminal back first), and the shell would wait for it forever:
/// when the pager stops, this process stops too, and continues the pager when continued.
fn wait_following_stops(pid: rustix::process::Pid) -> std::io::Result<std::process::ExitStatus> {
    use rustix::process::{kill_process, waitpid, Signal, WaitOptions};
    use std::os::unix::process::ExitStatusExt;
    loop {
        let status = match waitpid(Some(pid), WaitOptions::UNTRACED) {
            Ok(Some((_, status))) => status,
            Ok(None) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        if !status.stopped() {
            return Ok(std::process::ExitStatus::from_raw(status.as_raw()));
        }
        PAGER_STOPPED.store(true, std::sync::atomic::Ordering::SeqCst);
        kill_process(rustix::process::getpid(), Signal::STOP)?;
        // The shell's fg continues the whole process group; the pager too, in case.
        let _ = kill_process(pid, Signal::CONT);
    }
}

/// The export format a path asks for by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Json,
    Csv,
}

/// The extensions an export may have, and their formats.
pub const EXPORT_EXTENSIONS: [(&str, ExportFormat); 3] =
    [(".jsonl", ExportFormat::Jsonl), (".json", ExportFormat::Json), (".csv", ExportFormat::Csv)];

impl ExportFormat {
    /// The format of `path` by its extension (any case); an unknown or missing extension is
    /// refused with the known ones, rather than a typo writing JSON Lines.
    pub fn for_path(path: &str) -> Result<ExportFormat, String> {
        let lower = path.to_ascii_lowercase();
        if let Some((_, f)) = EXPORT_EXTENSIONS.iter().find(|(ext, _)| lower.ends_with(ext)) {
            return Ok(*f);
        }
        let known = EXPORT_EXTENSIONS.iter().map(|e| e.0).collect::<Vec<_>>().join(", ");
        let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Err(match name.rsplit_once('.') {
            Some((_, ext)) if !ext.is_empty() => {
                format!("cannot export to {}: unknown extension .{} (use {known})", sanitize(path), sanitize(ext))
            }
            _ => format!("cannot export to {}: no extension (use {known})", sanitize(path)),
        })
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    /// Events written.
    pub written: usize,
    /// CSV rows written with their eventID empty: their records could not be read back.
    pub without_id: usize,
    /// The first input with such a record, and why it could not be read.
    pub first_unread: (String, String),
}

impl Exported {
    /// What the user is told, of the file at `path` (sanitised where it is shown).
    pub fn describe(&self, path: &str) -> String {
        let mut text = format!("exported {} events to {path}", crate::tui::ui::thousands(self.written));
        if self.without_id > 0 {
            let (input, why) = &self.first_unread;
            text.push_str(&format!(
                " ({} without their eventID: could not read back records of {input}: {why})",
                crate::tui::ui::thousands(self.without_id)
            ));
        }
        text
    }
}

/// Writes `events` (newest first) to `path`, with the same records and cells as `print`.
/// The file is new and private (0600: events hold IPs, ARNs and key ids); an existing file is
/// written over only when `overwrite` (`:export!`). The store is locked a chunk at a time so
/// the UI can keep adding events meanwhile.
pub fn export(
    store: &SharedStore,
    raw: &RawReader,
    events: &[u32],
    path: &str,
    overwrite: bool,
) -> Result<Exported, String> {
    let format = ExportFormat::for_path(path)?;
    let p = expand_home(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&p).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => {
            format!("{} exists; :export! {} writes over it", sanitize(&p.display().to_string()), sanitize(path))
        }
        _ => format!("cannot write {}: {e}", sanitize(&p.display().to_string())),
    })?;
    #[cfg(unix)]
    if overwrite {
        // A file written over keeps its mode otherwise.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot make {} private: {e}", sanitize(&p.display().to_string())))?;
    }
    let mut out = io::BufWriter::with_capacity(1 << 16, file);
    let written = write_export(format, store, raw, events, &mut out)
        .and_then(|n| out.flush().map(|_| n))
        .map_err(|e| format!("writing {} failed: {e}", sanitize(&p.display().to_string())))?;
    Ok(written)
}

fn write_export(
    format: ExportFormat,
    store: &SharedStore,
    raw: &RawReader,
    events: &[u32],
    out: &mut dyn Write,
) -> io::Result<Exported> {
    let mut written = 0;
    let mut unread = Unread::default();
    match format {
        ExportFormat::Csv => writeln!(out, "{}", columns::HEADERS.join(","))?,
        ExportFormat::Json => out.write_all(b"[")?,
        ExportFormat::Jsonl => {}
    }
    for chunk in events.chunks(4096) {
        let s = store.read();
        // The eventID column is the records': read a file at a time, as `print` reads it (a
        // row whose record cannot be read keeps its eventID empty, and is counted).
        let ids = (format == ExportFormat::Csv)
            .then(|| read_event_ids(&s, raw, chunk.len(), &|k| s.events[chunk[k] as usize], &mut unread));
        for (k, &i) in chunk.iter().enumerate() {
            let ev = &s.events[i as usize];
            match &ids {
                Some(ids) => write_csv_row(&s, ev, &ids.get(k), out)?,
                None => {
                    let file = s.file_of(ev).ok_or_else(|| io::Error::other("an event without a source file"))?;
                    let bytes = raw
                        .read(file, ev.loc)
                        .map_err(|e| io::Error::other(format!("reading back a record of {}: {e}", file.display)))?;
                    if format == ExportFormat::Json {
                        out.write_all(if written == 0 { b"\n" } else { b",\n" })?;
                    }
                    write_compact(&bytes, out)?;
                    if format == ExportFormat::Jsonl {
                        out.write_all(b"\n")?;
                    }
                }
            }
            written += 1;
        }
    }
    if format == ExportFormat::Json {
        out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })?;
    }
    let first_unread = unread.first(&store.read().files);
    Ok(Exported { written, without_id: unread.total(), first_unread })
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `$XDG_CONFIG_HOME/trailscope` or `~/.config/trailscope`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("trailscope"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config").join("trailscope"))
}

/// The saved filters file.
pub fn saved_filters_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("filters.json"))
}

/// The most a saved filters file or the configuration file may hold: a few lines are
/// expected, and a path such as /dev/zero must not be read until memory runs out.
pub const SMALL_FILE_MAX: u64 = 1 << 20;

/// Reads a small text file whole; one larger than [`SMALL_FILE_MAX`] is an error.
pub fn read_small(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(SMALL_FILE_MAX + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > SMALL_FILE_MAX {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, "larger than 1 MiB, the most this file may hold"));
    }
    String::from_utf8(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedFilter {
    name: String,
    filter: String,
}

/// The saved filters in `path`: `Ok(None)` when there is no such file, `Err` (why) when it
/// cannot be read as saved filters.
fn read_saved_filters(path: &Path) -> Result<Option<Vec<(String, String)>>, String> {
    let text = match read_small(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let list: Vec<SavedFilter> =
        serde_json::from_str(&text).map_err(|e| format!("{} is not a list of saved filters: {e}", path.display()))?;
    Ok(Some(list.into_iter().map(|f| (f.name, f.filter)).collect()))
}

/// Moves a file that could not be read aside (`NAME.bad-<time>`), never deleting it, so that
/// nothing writes over it; returns where it is now.
fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut n = 0;
    let target = loop {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let t = path.with_file_name(format!("{name}.bad-{stamp}{suffix}"));
        if std::fs::symlink_metadata(&t).is_err() {
            break t;
        }
        n += 1;
    };
    std::fs::rename(path, &target)?;
    Ok(target)
}

/// The saved filters; a missing file is no filters. A file that cannot be read is moved
/// aside (kept) so that the next `:save` does not write over it; the error says where.
pub fn load_saved_filters(path: &Path) -> Result<Vec<(String, String)>, String> {
    match read_saved_filters(path) {
        Ok(list) => Ok(list.unwrap_or_default()),
        Err(why) => Err(match move_aside(path) {
            Ok(kept) => format!("{why}; it was moved to {} (kept), and :save starts a new file", kept.display()),
            Err(e) => format!("{why}; it could not be moved aside ({e}), so :save will not write over it"),
        }),
    }
}

/// Stores the saved filters, replacing the file atomically. A file there that cannot be
/// read as saved filters is never written over: it is moved aside first, and the `Err` then
/// says so although the filters were saved.
pub fn store_saved_filters(path: &Path, filters: &[(String, String)]) -> Result<(), String> {
    let list: Vec<SavedFilter> =
        filters.iter().map(|(n, f)| SavedFilter { name: n.clone(), filter: f.clone() }).collect();
    let text = serde_json::to_string_pretty(&list).map_err(|e| e.to_string())? + "\n";
    let moved = match read_saved_filters(path) {
        Ok(_) => None,
        Err(why) => match move_aside(path) {
            Ok(kept) => Some(format!("{why}; it was moved to {} (kept)", kept.display())),
            Err(e) => return Err(format!("{why}; it could not be moved aside ({e}), so it is not written over")),
        },
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".filters.json.")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", tmp.path().display()))?;
    tmp.persist(path).map_err(|e| format!("cannot replace {}: {}", path.display(), e.error))?;
    match moved {
        None => Ok(()),
        Some(note) => Err(format!("the filters were saved; the earlier file was not: {note}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_base64_and_wraps_for_tmux() {
        assert_eq!(osc52("hi", false), "\x1b]52;c;aGk=\x07");
        let t = osc52("hi", true);
        assert!(t.starts_with("\x1b]52;c;aGk=\x07\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\"), "{t:?}");
        // Whatever the text, the sequence holds no raw control character besides its frame.
        let hostile = osc52("\x1b]0;pwned\x07\u{9b}", false);
        assert!(!hostile[7..hostile.len() - 1].chars().any(|c| c.is_control()));
    }

    #[test]
    fn export_format_by_extension() {
        assert_eq!(ExportFormat::for_path("a.CSV"), Ok(ExportFormat::Csv));
        assert_eq!(ExportFormat::for_path("a.json"), Ok(ExportFormat::Json));
        assert_eq!(ExportFormat::for_path("~/x.y/a.jsonl"), Ok(ExportFormat::Jsonl));
        assert_eq!(
            ExportFormat::for_path("/tmp/x.txt"),
            Err("cannot export to /tmp/x.txt: unknown extension .txt (use .jsonl, .json, .csv)".into())
        );
        assert_eq!(
            ExportFormat::for_path("x.y/out"),
            Err("cannot export to x.y/out: no extension (use .jsonl, .json, .csv)".into())
        );
        assert!(ExportFormat::for_path("a.cvs").unwrap_err().contains("unknown extension .cvs"));
    }

    #[test]
    fn saved_filters_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("filters.json");
        assert_eq!(load_saved_filters(&p).unwrap(), vec![]);
        let list = vec![("denied".to_string(), "has:error error:Denied".to_string())];
        store_saved_filters(&p, &list).unwrap();
        assert_eq!(load_saved_filters(&p).unwrap(), list);
        std::fs::write(&p, "not json").unwrap();
        assert!(load_saved_filters(&p).unwrap_err().contains("not a list"));
    }

    /// Files named `filters.json.bad-…` in `dir`, with their contents.
    fn moved_aside(dir: &Path) -> Vec<String> {
        let mut kept: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("filters.json.bad-"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        kept.sort();
        kept
    }

    #[test]
    fn a_filters_file_that_cannot_be_read_is_moved_aside_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("filters.json");
        // Edited by hand, with a trailing comma.
        let edited = "[{\"name\": \"denied\", \"filter\": \"has:error\"},]\n";
        std::fs::write(&p, edited).unwrap();
        let e = load_saved_filters(&p).unwrap_err();
        assert!(e.contains("not a list of saved filters"), "{e}");
        // `:save` with the filters the app has: none could be read.
        let list = vec![("mine".to_string(), "user:alice".to_string())];
        let _ = store_saved_filters(&p, &list);
        assert_eq!(load_saved_filters(&p).unwrap(), list);
        assert_eq!(moved_aside(dir.path()), vec![edited.to_string()], "the unreadable file is kept");
        // A file that went bad after it was loaded is not written over either.
        std::fs::write(&p, "garbage").unwrap();
        let e = store_saved_filters(&p, &list).unwrap_err();
        assert!(e.contains("moved to") && e.contains("filters.json.bad-"), "{e}");
        assert_eq!(load_saved_filters(&p).unwrap(), list);
        assert_eq!(moved_aside(dir.path()), vec![edited.to_string(), "garbage".to_string()]);
    }

    #[test]
    fn a_huge_filters_file_is_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("filters.json");
        std::fs::write(&p, format!("[{}]", " ".repeat(2 << 20))).unwrap();
        let e = load_saved_filters(&p).unwrap_err();
        assert!(e.contains("1 MiB") && e.contains(&p.display().to_string()), "{e}");
    }

    /// Plants a symlink at the name a temporary file used to get, pointing at a file of
    /// another user's; returns the symlink and the file.
    #[cfg(unix)]
    fn plant(dir: &Path, old_name: &str) -> (PathBuf, PathBuf) {
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let planted = std::env::temp_dir().join(old_name);
        let _ = std::fs::remove_file(&planted);
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        (planted, victim)
    }

    #[cfg(unix)]
    #[test]
    fn the_pager_file_is_fresh_private_and_removed_after_use() {
        let dir = tempfile::tempdir().unwrap();
        let (planted, victim) = plant(dir.path(), &format!("trailscope-record-{}.json", std::process::id()));
        let d = dir.path().display();
        // The pager notes the file's name and mode and copies it.
        let pager = format!("echo \"$1\" > {d}/name; stat -c %a \"$1\" > {d}/mode; cp \"$1\" {d}/copy; true");
        run_pager_with(&pager, "the record\n").unwrap();
        let _ = std::fs::remove_file(&planted);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me", "the planted link was not followed");
        assert_eq!(std::fs::read_to_string(dir.path().join("copy")).unwrap(), "the record\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("mode")).unwrap().trim(), "600");
        let name = std::fs::read_to_string(dir.path().join("name")).unwrap();
        let name = Path::new(name.trim());
        assert_ne!(name, planted);
        assert!(!name.exists(), "{} is removed after use", name.display());
    }

    #[cfg(unix)]
    #[test]
    fn the_copy_fallback_file_is_fresh_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (planted, victim) = plant(dir.path(), &format!("trailscope-copy-{}.json", std::process::id()));
        let text = "{\"eventName\": \"RunInstances\"}\n".repeat(20);
        let notice = copy_to_file("event JSON", &text);
        let _ = std::fs::remove_file(&planted);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me", "the planted link was not followed");
        let path = PathBuf::from(
            notice.split(" is in ").nth(1).unwrap_or_else(|| panic!("{notice}")).split(' ').next().unwrap(),
        );
        assert_ne!(path, planted);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn pretty_records_are_sanitised() {
        let text = pretty_record(b"{\"userAgent\":\"a\\u001b]0;x\\u0007\xc2\x9b2J\"}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    }
}
