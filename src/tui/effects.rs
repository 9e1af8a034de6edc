//! The side effects the TUI asks for: copying (OSC 52), the pager, exporting the filtered
//! events, and the saved filters file. Everything here runs in the app loop or on a blocking
//! thread, never in `update` or `draw`.

use crate::model::columns;
use crate::model::raw::RawReader;
use crate::print::{write_compact, write_csv_row};
use crate::query::run::SharedStore;
use crate::sanitize::sanitize;
use base64::Engine as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why the pager could not show a record.
#[derive(Debug, thiserror::Error)]
pub enum PagerError {
    #[error("could not write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{pager} exited with {status}")]
    Failed { pager: String, status: std::process::ExitStatus },
    #[error("could not run {pager}: {source}")]
    Run { pager: String, source: io::Error },
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: {source}", .path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("writing {} failed: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Why the saved filters could not be read or stored.
#[derive(Debug, thiserror::Error)]
pub enum SavedFiltersError {
    #[error("cannot read {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not a list of saved filters: {source}", .path.display())]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{0}")]
    Encode(serde_json::Error),
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot replace {}: {source}", .path.display())]
    Replace { path: PathBuf, source: io::Error },
}

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
    match write_private(&std::env::temp_dir().join(format!("trailscope-copy-{}.json", std::process::id())), text) {
        Ok(p) => format!("this terminal does not take OSC 52; the {label} is in {}", p.display()),
        Err(e) => format!("could not copy the {label}: {e}"),
    }
}

/// Writes a file readable by the owner only.
fn write_private(path: &Path, text: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(path.to_path_buf())
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
pub fn run_pager(text: &str) -> Result<(), PagerError> {
    let path = std::env::temp_dir().join(format!("trailscope-record-{}.json", std::process::id()));
    if let Err(source) = write_private(&path, text) {
        return Err(PagerError::Write { path, source });
    }
    let pager = std::env::var("PAGER").ok().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "less".into());
    let status =
        std::process::Command::new("sh").arg("-c").arg(format!("{pager} \"$1\"")).arg("sh").arg(&path).status();
    let _ = std::fs::remove_file(&path);
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(status) => Err(PagerError::Failed { pager, status }),
        Err(source) => Err(PagerError::Run { pager, source }),
    }
}

/// The export format a path asks for by its extension: `.csv`, `.json`, else JSON Lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Json,
    Csv,
}

impl ExportFormat {
    pub fn for_path(path: &str) -> ExportFormat {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            ExportFormat::Csv
        } else if lower.ends_with(".json") {
            ExportFormat::Json
        } else {
            ExportFormat::Jsonl
        }
    }
}

/// Writes `events` (newest first) to `path`, with the same records and cells as `print`.
/// The store is locked a chunk at a time so the UI can keep adding events meanwhile.
/// Returns how many events were written.
pub fn export(store: &SharedStore, raw: &RawReader, events: &[u32], path: &str) -> Result<usize, ExportError> {
    let format = ExportFormat::for_path(path);
    let p = expand_home(path);
    let file = match std::fs::File::create(&p) {
        Ok(f) => f,
        Err(source) => return Err(ExportError::Create { path: p, source }),
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, file);
    match write_export(format, store, raw, events, &mut out).and_then(|n| out.flush().map(|_| n)) {
        Ok(written) => Ok(written),
        Err(source) => Err(ExportError::Write { path: p, source }),
    }
}

fn write_export(
    format: ExportFormat,
    store: &SharedStore,
    raw: &RawReader,
    events: &[u32],
    out: &mut dyn Write,
) -> io::Result<usize> {
    let mut written = 0;
    match format {
        ExportFormat::Csv => writeln!(out, "{}", columns::HEADERS.join(","))?,
        ExportFormat::Json => out.write_all(b"[")?,
        ExportFormat::Jsonl => {}
    }
    for chunk in events.chunks(4096) {
        let s = store.read();
        for &i in chunk {
            let ev = &s.events[i as usize];
            match format {
                ExportFormat::Csv => write_csv_row(&s, i, out)?,
                ExportFormat::Json | ExportFormat::Jsonl => {
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
    Ok(written)
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

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedFilter {
    name: String,
    filter: String,
}

/// The saved filters; a missing file is no filters, an unreadable one an error to show.
pub fn load_saved_filters(path: &Path) -> Result<Vec<(String, String)>, SavedFiltersError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(SavedFiltersError::Read { path: path.to_path_buf(), source }),
    };
    let list: Vec<SavedFilter> =
        serde_json::from_str(&text).map_err(|source| SavedFiltersError::Parse { path: path.to_path_buf(), source })?;
    Ok(list.into_iter().map(|f| (f.name, f.filter)).collect())
}

/// Stores the saved filters, replacing the file atomically.
pub fn store_saved_filters(path: &Path, filters: &[(String, String)]) -> Result<(), SavedFiltersError> {
    use SavedFiltersError as E;
    let list: Vec<SavedFilter> =
        filters.iter().map(|(n, f)| SavedFilter { name: n.clone(), filter: f.clone() }).collect();
    let text = serde_json::to_string_pretty(&list).map_err(E::Encode)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| E::CreateDir { path: dir.to_path_buf(), source })?;
    }
    let tmp = path.with_extension("json.tmp");
    write_private(&tmp, &(text + "\n")).map_err(|source| E::Write { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| E::Replace { path: path.to_path_buf(), source })
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
        assert_eq!(ExportFormat::for_path("a.CSV"), ExportFormat::Csv);
        assert_eq!(ExportFormat::for_path("a.json"), ExportFormat::Json);
        assert_eq!(ExportFormat::for_path("a.jsonl"), ExportFormat::Jsonl);
        assert_eq!(ExportFormat::for_path("a"), ExportFormat::Jsonl);
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
        let e = load_saved_filters(&p).unwrap_err();
        assert!(matches!(e, SavedFiltersError::Parse { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&format!("{} is not a list of saved filters: ", p.display())), "{e}");
    }

    #[test]
    fn export_errors_say_which_file_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("out.jsonl");
        let e = export(&SharedStore::default(), &RawReader::new(0), &[], path.to_str().unwrap()).unwrap_err();
        assert!(matches!(&e, ExportError::Create { path: p, .. } if *p == path), "{e:?}");
        assert!(e.to_string().starts_with(&format!("cannot write {}: ", path.display())), "{e}");
        let ok = dir.path().join("out.json");
        assert_eq!(export(&SharedStore::default(), &RawReader::new(0), &[], ok.to_str().unwrap()).unwrap(), 0);
        assert_eq!(std::fs::read_to_string(&ok).unwrap(), "[]\n");
    }

    #[test]
    fn pretty_records_are_sanitised() {
        let text = pretty_record(b"{\"userAgent\":\"a\\u001b]0;x\\u0007\xc2\x9b2J\"}");
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    }
}
