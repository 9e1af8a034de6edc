//! End to end: the real binary in a real terminal (tmux), driven by keys.

mod common;
use common::*;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, cmd: &str, w: u16, h: u16) -> Tmux {
        let socket = format!("trailscope-e2e-{}-{name}", std::process::id());
        let t = Tmux { socket };
        let ok = t
            .cmd(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                cmd,
            ])
            .status
            .success();
        assert!(ok, "tmux could not start (is tmux installed? .ci/run installs it)");
        t
    }
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .env("TRAILSCOPE_CACHE_DIR", test_cache_dir())
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is required for end-to-end tests")
    }
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "e2e", k]);
            // A lone Esc followed at once by a key reads as Alt+key; type like a person.
            std::thread::sleep(Duration::from_millis(120));
        }
    }
    fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-t", "e2e", "-l", text]);
        std::thread::sleep(Duration::from_millis(120));
    }
    fn wait_for(&self, what: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(15), "timed out waiting for {what:?}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Waits up to 20 s for a screen that `ok` accepts; `what` says what was awaited.
    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    fn title(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["display-message", "-p", "-t", "e2e", "#{pane_title}"]).stdout)
            .trim()
            .to_string()
    }
}

/// A runtime serving a LookupEvents double of `archive` on a free port.
fn serve(archive: &std::path::Path) -> (tokio::runtime::Runtime, trailscope_double::Double) {
    serve_with(archive, 0, Default::default())
}

fn serve_with(
    archive: &std::path::Path,
    port: u16,
    cfg: trailscope_double::DoubleConfig,
) -> (tokio::runtime::Runtime, trailscope_double::Double) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let double = rt.block_on(trailscope_double::Double::start(archive, port, cfg)).unwrap();
    (rt, double)
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn open_filter_detail_quit() {
    let cmd = format!("{} {}; echo EXITED:$?; sleep 30", shell_quote(bin()), shell_quote(stratus().to_str().unwrap()));
    let t = Tmux::start("basic", &cmd, 120, 40);
    t.wait_for("Events · 310");
    // The status line is drawn after the list: wait for it rather than read the same capture.
    t.wait_for("310/310 events");
    t.keys(&["/"]);
    t.type_text("name:=DeleteTrail");
    t.keys(&["Enter"]);
    let s = t.wait_for("Events · 1 ");
    assert!(s.contains("1 of 310 events match"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("\"eventName\": \"DeleteTrail\"");
    assert!(s.contains("Detail · ee73c230-44bc-4492-8542-cfb189eae287"), "{s}");
    t.keys(&["Escape", "q"]);
    let s = t.wait_for("EXITED:0");
    assert!(!s.contains("Events ·"), "the terminal is restored after quitting:\n{s}");
}

#[test]
fn hostile_records_leave_title_and_screen_alone() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<serde_json::Value> = [
        "\u{1b}]0;pwned\u{7}",
        "\u{1b}]2;pwned2\u{1b}\\",
        "\u{1b}[2J\u{1b}[H",
        "\u{9b}2J",
        "\u{1b}]52;c;cHduZWQ=\u{7}",
        "\u{202e}olleh",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| {
        serde_json::json!({"eventTime": format!("2025-01-01T00:00:0{i}Z"), "eventName": format!("Evil{s}Call"), "eventID": format!("e{i}"),
            "userAgent": s, "userIdentity": {"type":"IAMUser","userName": format!("u{s}")}, "requestParameters": {"x": s}})
    })
    .collect();
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, serde_json::to_vec(&recs).unwrap()).unwrap();
    let cmd = format!("{} {}; echo EXITED:$?; sleep 30", shell_quote(bin()), shell_quote(path.to_str().unwrap()));
    let t = Tmux::start("hostile", &cmd, 120, 40);
    let before = t.title();
    t.wait_for("Events · 6");
    for _ in 0..6 {
        t.keys(&["j"]);
    }
    t.keys(&["Enter", "G", "Escape", "g"]);
    let s = t.wait_for("Evil\\e]0;pwned\\x07");
    assert!(s.contains("Filter") && s.contains("Detail"), "the screen was not cleared:\n{s}");
    assert_ne!(t.title(), "pwned");
    assert_ne!(t.title(), "pwned2");
    assert_eq!(t.title(), before, "the pane title is unchanged");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

/// Events show while an input is still loading: a named pipe that nobody writes to yet.
#[test]
fn first_screen_does_not_wait_for_a_slow_input() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("slow.pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let cmd = format!(
        "{} {} {}; echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        shell_quote(stratus().to_str().unwrap()),
        shell_quote(fifo.to_str().unwrap())
    );
    let t = Tmux::start("slow", &cmd, 120, 40);
    let s = t.wait_for("310/310 events");
    assert!(s.contains("loading 35/36 files"), "still waiting for the pipe:\n{s}");
    // Now the pipe delivers lookup-events output with one more event.
    let more = serde_json::json!({"Events": [{"EventId": "late-1", "EventTime": 1722430001.0,
        "CloudTrailEvent": serde_json::json!({"eventTime": "2024-07-31T12:46:41Z", "eventName": "LateArrival", "eventID": "late-1"}).to_string()}]});
    std::fs::write(&fifo, more.to_string()).unwrap();
    let s = t.wait_for("311/311 events");
    assert!(s.contains("36 files"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

/// Live event history in the TUI, against the LookupEvents double: pages arrive as needed,
/// the plan is shown, and a filter with an exact term is sent to AWS.
#[test]
fn live_history_with_plan_and_paging() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), 1500, 1, 5, 600, 6 * 3600);
    let (_rt, double) = serve(&archive);
    let cmd = format!(
        "env -u AWS_PROFILE -u AWS_REGION AWS_ACCESS_KEY_ID=AKIDTUI AWS_SECRET_ACCESS_KEY=x AWS_CONFIG_FILE=/nonexistent \
         AWS_EC2_METADATA_DISABLED=true TRAILSCOPE_CACHE_DIR={} {} --endpoint-url {} --region us-east-1 --since 1d; echo EXITED:$?; sleep 30",
        shell_quote(&dir.path().join("cache").to_string_lossy()),
        shell_quote(bin()),
        double.endpoint()
    );
    let t = Tmux::start("live", &cmd, 120, 40);
    let s = t.wait_for("AWS: all events");
    assert!(s.contains("Filter"), "{s}");
    // Only the pages the screen needs (and a few ahead), not all 30.
    t.wait_for("matched 200");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let early = double.log().len();
    assert!((3..=6).contains(&early), "fetched {early} pages for the first screens");
    // Going to the end asks for more.
    t.keys(&["G"]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(double.log().len() > early, "scrolling fetched more pages");
    // An exact term goes to AWS.
    let name = double.records().iter().find(|r| r.region == "us-east-1").and_then(|r| r.event_name.clone()).unwrap();
    t.keys(&["/"]);
    t.type_text(&format!("name:={name}"));
    t.keys(&["Enter"]);
    let s = t.wait_for(&format!("AWS: EventName={name}"));
    assert!(s.contains("cache 0 · AWS "), "{s}");
    let attr = format!("EventName={name}");
    let start = std::time::Instant::now();
    while !double.log().iter().any(|e| e.attribute.as_deref() == Some(attr.as_str())) {
        assert!(start.elapsed().as_secs() < 10, "the filter's exact term was not sent to AWS");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    double.shutdown();
}

impl Tmux {
    /// The pid of the app: the child of the pane's shell.
    fn app_pid(&self) -> String {
        let shell = String::from_utf8_lossy(&self.cmd(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"]).stdout)
            .trim()
            .to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string()
    }
}

/// SIGTERM and SIGHUP (the SSH session drops) restore the terminal; the exit status says which.
#[test]
fn signals_restore_the_terminal() {
    for (sig, code) in [("TERM", 143), ("HUP", 129)] {
        let cmd =
            format!("{} {}; echo EXITED:$?; sleep 30", shell_quote(bin()), shell_quote(stratus().to_str().unwrap()));
        let t = Tmux::start(&format!("sig{sig}"), &cmd, 100, 30);
        t.wait_for("310/310 events");
        let pid = t.app_pid();
        assert!(!pid.is_empty());
        assert_eq!(t.mouse_flags(), "110");
        assert!(Command::new("kill").args([&format!("-{sig}"), &pid]).status().unwrap().success());
        let s = t.wait_for(&format!("EXITED:{code}"));
        assert!(!s.contains("Events ·"), "SIG{sig}: the alternate screen was left:\n{s}");
        assert_eq!(t.mouse_flags(), "000", "SIG{sig}: mouse reporting is off");
        // The terminal is back in cooked mode: typed text echoes.
        t.cmd(&["send-keys", "-t", "e2e", "-l", "echoed"]);
        t.wait_for("echoed");
    }
}

/// A storm of resizes, down to 1x1, never kills the app; it draws at the final size.
#[test]
fn resize_storm() {
    let cmd = format!("{} {}; echo EXITED:$?; sleep 30", shell_quote(bin()), shell_quote(stratus().to_str().unwrap()));
    let t = Tmux::start("resize", &cmd, 120, 40);
    t.wait_for("310/310 events");
    for (w, h) in [(1, 1), (200, 60), (2, 50), (80, 24), (1, 80), (30, 5), (133, 7), (10, 10), (1, 1), (90, 30)] {
        t.cmd(&["resize-window", "-t", "e2e", "-x", &w.to_string(), "-y", &h.to_string()]);
        std::thread::sleep(Duration::from_millis(30));
    }
    t.cmd(&["resize-window", "-t", "e2e", "-x", "100", "-y", "30"]);
    let s = t.wait_for("310/310 events");
    assert!(s.lines().next().unwrap_or("").starts_with("┌ Filter"), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

impl Tmux {
    /// The screen with its attributes and colours as SGR sequences.
    fn screen_with_escapes(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-e", "-p", "-t", "e2e"]).stdout).into_owned()
    }
    /// Which mouse reporting the pane asked for: any mode, SGR form, every motion (1003).
    fn mouse_flags(&self) -> String {
        let f = "#{mouse_any_flag}#{mouse_sgr_flag}#{mouse_all_flag}";
        String::from_utf8_lossy(&self.cmd(&["display-message", "-p", "-t", "e2e", f]).stdout).trim().to_string()
    }
    /// Sends what a terminal sends for a mouse event in SGR form (1-based cells): `button`
    /// 0 is a left press and release, 64 and 65 the wheel up and down.
    fn mouse(&self, button: u8, x: u16, y: u16) {
        let (x, y) = (x + 1, y + 1);
        let mut seq = format!("\x1b[<{button};{x};{y}M");
        if button < 64 {
            seq.push_str(&format!("\x1b[<{button};{x};{y}m"));
        }
        self.cmd(&["send-keys", "-t", "e2e", "-l", &seq]);
        std::thread::sleep(Duration::from_millis(120));
    }
    /// Waits until the screen's reverse-video row (the selection) is line `y`.
    fn wait_for_selection(&self, y: u16) {
        let start = Instant::now();
        loop {
            let s = self.screen_with_escapes();
            let rows = sgr_lines(&s, |p| p == [7]);
            if rows == [y as usize] {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "reverse video on {rows:?}, not {y}:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The lines with an SGR sequence (`ESC [ … m`) having a parameter that `pick` picks, once each.
fn sgr_lines(screen: &str, pick: impl Fn(&[u32]) -> bool) -> Vec<usize> {
    let mut out = Vec::new();
    for (n, line) in screen.lines().enumerate() {
        let found = line.split("\x1b[").skip(1).any(|rest| {
            let Some(end) = rest.find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':')) else { return false };
            if !rest[end..].starts_with('m') {
                return false;
            }
            let params: Vec<u32> = rest[..end].split([';', ':']).filter_map(|p| p.parse().ok()).collect();
            // 38 and 48 lead extended colours; their own arguments are not looked at.
            let mut i = 0;
            while i < params.len() {
                if pick(&params[i..=i]) {
                    return true;
                }
                if params[i] == 38 || params[i] == 48 {
                    break;
                }
                i += 1;
            }
            false
        });
        if found {
            out.push(n);
        }
    }
    out
}

/// Whether an SGR parameter sets a colour: 30-38, 40-48, 90-97, 100-107 (39 and 49 reset).
fn is_colour(p: &[u32]) -> bool {
    matches!(p[0], 30..=38 | 40..=48 | 90..=97 | 100..=107)
}

/// What colour a screen has.
#[derive(Debug, PartialEq)]
enum Colours {
    None,
    Named,
    Palette256,
    Rgb,
}

/// NO_COLOR: not one colour on the screen (the selection stays visible in reverse video);
/// without it the same screen has colours, at the depth COLORTERM and TERM say; a theme chosen
/// explicitly wins over NO_COLOR.
#[test]
fn no_color_draws_without_colour_and_depth_follows_the_environment() {
    let clean = "env -u NO_COLOR -u TRAILSCOPE_THEME -u COLORTERM";
    for (name, env, want) in [
        ("colour", format!("{clean} TERM=screen"), Colours::Named),
        ("nocolour", format!("{clean} TERM=screen NO_COLOR=1"), Colours::None),
        ("nocolour256", format!("{clean} TERM=xterm-256color NO_COLOR=1"), Colours::None),
        ("themed", format!("{clean} TERM=screen TRAILSCOPE_THEME=mono"), Colours::None),
        ("override", format!("{clean} TERM=xterm-256color NO_COLOR=1 TRAILSCOPE_THEME=default"), Colours::Palette256),
        ("rgb", format!("{clean} TERM=xterm-256color COLORTERM=truecolor"), Colours::Rgb),
    ] {
        let cmd = format!(
            "{env} {} {}; echo EXITED:$?; sleep 30",
            shell_quote(bin()),
            shell_quote(stratus().to_str().unwrap())
        );
        let t = Tmux::start(name, &cmd, 100, 30);
        t.wait_for("310/310 events");
        t.keys(&["Enter"]);
        t.wait_for("\"eventVersion\"");
        let s = t.screen_with_escapes();
        let lines = sgr_lines(&s, is_colour);
        // tmux writes the 16 named colours as 38;5;0-15 too.
        let beyond_16 = s.split("38;5;").skip(1).any(|r| {
            r.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n >= 16)
        });
        let got = if lines.is_empty() {
            Colours::None
        } else if s.contains("38;2;") {
            Colours::Rgb
        } else if beyond_16 {
            Colours::Palette256
        } else {
            Colours::Named
        };
        assert_eq!(got, want, "{name}: {s:?}");
        if want == Colours::None {
            assert!(!sgr_lines(&s, |p| p == [7]).is_empty(), "{name}: the selection is in reverse video:\n{s:?}");
        } else {
            assert!(lines.len() > 10, "{name}: colours on {lines:?}:\n{s}");
        }
        t.keys(&["q"]);
        t.wait_for("EXITED:0");
    }
}

/// Clicks and the wheel at 80x24: a click selects a row, the wheel moves the selection over
/// the list and scrolls the detail; after quitting, the terminal reports no mouse. With
/// --no-mouse nothing is asked of the terminal and the same input does nothing.
#[test]
fn mouse_clicks_and_wheel_and_no_mouse() {
    let screen = ratatui::layout::Rect::new(0, 0, 80, 24);
    let a = trailscope::tui::ui::layout(screen, trailscope::tui::ui::Panes { timeline: true, facets: false });
    let first = a.list.y + 2;
    let start = |name: &str, flag: &str| {
        let cmd = format!(
            "{} {flag} {}; echo EXITED:$?; sleep 30",
            shell_quote(bin()),
            shell_quote(stratus().to_str().unwrap())
        );
        let t = Tmux::start(name, &cmd, 80, 24);
        t.wait_for("310/310 events");
        t
    };
    let position = |s: &str| s.lines().nth(a.detail.bottom() as usize - 1).unwrap_or("").to_string();

    let t = start("mouse", "");
    assert_eq!(t.mouse_flags(), "110", "button presses in SGR form, no motion");
    t.wait_for_selection(first);
    t.mouse(0, 10, first + 3);
    t.wait_for_selection(first + 3);
    t.mouse(65, 10, first);
    t.wait_for_selection(first + 4);
    t.mouse(64, 10, first);
    t.mouse(64, 10, first);
    t.wait_for_selection(first + 2);
    // The wheel over the detail scrolls it by three lines a step.
    let before = position(&t.wait_for(" 1/"));
    t.mouse(65, 10, a.detail.y + 2);
    let s = t.wait_for(" 4/");
    assert_eq!(position(&s), before.replace(" 1/", " 4/"), "{s}");
    t.wait_for_selection(first + 2);
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    assert_eq!(t.mouse_flags(), "000", "mouse reporting is off after quitting");

    let t = start("nomouse", "--no-mouse");
    assert_eq!(t.mouse_flags(), "000");
    t.mouse(0, 10, first + 3);
    t.mouse(65, 10, first);
    t.mouse(65, 10, a.detail.y + 2);
    std::thread::sleep(Duration::from_millis(400));
    t.wait_for_selection(first);
    let s = t.screen();
    assert!(s.contains(" 1/") && !s.contains("no earlier filter"), "the input did nothing, not even as keys:\n{s}");
    t.keys(&["j"]);
    t.wait_for_selection(first + 1);
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

/// While an answer is slow to come, the UI stays responsive and says what it waits for.
#[test]
fn live_waiting_is_shown_and_the_ui_stays_responsive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), 100, 1, 42, 600, 3600);
    let faults = trailscope_double::Faults {
        delay: trailscope_double::Trigger::EveryNth(1),
        delay_ms: 60_000,
        ..Default::default()
    };
    let cfg = trailscope_double::DoubleConfig { faults, ..Default::default() };
    let (_rt, double) = serve_with(&archive, 0, cfg);
    let cmd = format!(
        "env -u AWS_PROFILE -u AWS_REGION AWS_ACCESS_KEY_ID=AKIDTUI AWS_SECRET_ACCESS_KEY=x AWS_CONFIG_FILE=/nonexistent \
         AWS_EC2_METADATA_DISABLED=true {} --no-cache --endpoint-url {} --region us-east-1; echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        double.endpoint()
    );
    let t = Tmux::start("waiting", &cmd, 120, 30);
    t.wait_for("waiting for us-east-1 (2s)");
    t.keys(&["?"]);
    t.wait_for("In the list, the detail view and the facets");
    let asked = Instant::now();
    t.keys(&["Escape", "q"]);
    t.wait_for("EXITED:0");
    assert!(asked.elapsed() < Duration::from_secs(5), "quitting does not wait for the request");
    double.shutdown();
}

/// A panic on the UI thread or in the loader thread restores the terminal and prints the
/// message (debug builds can inject one).
#[test]
fn panics_restore_the_terminal_and_say_what_happened() {
    for place in ["ui", "loader"] {
        let cmd = format!(
            "RUST_BACKTRACE=0 TRAILSCOPE_INJECT_PANIC={place} {} {}; echo EXITED:$?; sleep 30",
            shell_quote(bin()),
            shell_quote(stratus().to_str().unwrap())
        );
        let t = Tmux::start(&format!("panic{place}"), &cmd, 120, 30);
        let s = t.wait_for("EXITED:101");
        assert!(s.contains(&format!("injected panic in the {place}")), "{place}: the message is printed:\n{s}");
        assert!(!s.contains("Events ·"), "{place}: the alternate screen was left:\n{s}");
        assert_eq!(t.mouse_flags(), "000", "{place}: mouse reporting is off");
        t.cmd(&["send-keys", "-t", "e2e", "-l", "echoed"]);
        t.wait_for("echoed");
    }
}

fn sample() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample").to_string_lossy().into_owned()
}

/// The line of the filter pane: the filter text as the user sees it.
fn filter_line(screen: &str) -> String {
    screen.lines().nth(1).unwrap_or("").trim_matches(|c: char| c == '│' || c.is_whitespace()).to_string()
}

/// One triage chain: from a ConsoleLogin, pivot to the same principal, add an error from the
/// facets, export, and compare the file with `print` of the same filter. Then copy an
/// eventID (OSC 52, which tmux takes into its paste buffer), open the pager and come back.
#[test]
fn triage_chain_pivot_facet_export_copy_pager() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("trent-errors.jsonl");
    let cmd = format!(
        "XDG_CONFIG_HOME={} PAGER=less {} {}; echo EXITED:$?; sleep 30",
        shell_quote(dir.path().to_str().unwrap()),
        shell_quote(bin()),
        shell_quote(&sample())
    );
    let t = Tmux::start("triage", &cmd, 120, 40);
    t.cmd(&["set-option", "-g", "set-clipboard", "on"]);
    t.wait_for("Events · 3,000");
    t.keys(&["/"]);
    t.type_text("name:=ConsoleLogin user:trent");
    t.keys(&["Enter"]);
    t.wait_for("Events · 1 ");

    t.keys(&["p"]);
    let s = t.wait_for("Events · 20 ");
    assert_eq!(filter_line(&s), "user:=trent type:=IAMUser account:=757843405676", "{s}");

    // Facets: three page-downs reach the error field; pick its first real error code.
    t.keys(&["f"]);
    t.wait_for("│source ip");
    t.keys(&["PageDown", "PageDown", "PageDown"]);
    let s = t.wait_for("│error");
    let lines: Vec<&str> = s.lines().collect();
    let header = lines.iter().position(|l| l.contains("││error")).unwrap();
    let values: Vec<&str> = lines[header + 1..].iter().map(|l| l.rsplit('│').nth(1).unwrap_or("").trim()).collect();
    let first_error = values.iter().position(|v| !v.starts_with("(none)")).unwrap();
    let code = values[first_error].split_whitespace().next().unwrap().to_string();
    assert_eq!(code, "ValidationException", "{s}");
    for _ in 0..first_error {
        t.keys(&["j"]);
    }
    t.keys(&["Enter"]);
    let s = t.wait_for("Events · 1 ");
    let filter = filter_line(&s);
    assert_eq!(filter, "user:=trent type:=IAMUser account:=757843405676 error:=ValidationException", "{s}");

    // Export what is shown.
    t.keys(&["Escape", "e"]);
    t.wait_for("Export 1 events to");
    t.keys(&["C-u"]);
    t.type_text(export.to_str().unwrap());
    t.keys(&["Enter"]);
    t.wait_for("exported 1 events to");
    let printed = run(&["print", "--format", "jsonl", "--filter", &filter, &sample()]);
    assert_eq!(std::fs::read(&export).unwrap(), printed.stdout, "the export is what print gives for the filter");

    // Copy the eventID: tmux takes OSC 52 into a paste buffer.
    t.keys(&["y", "i"]);
    let s = t.wait_for("copied the eventID");
    let id =
        serde_json::from_slice::<serde_json::Value>(&printed.stdout).unwrap()["eventID"].as_str().unwrap().to_string();
    assert!(s.contains(&id), "{s}");
    let buffer = String::from_utf8_lossy(&t.cmd(&["show-buffer"]).stdout).into_owned();
    assert_eq!(buffer, id, "the clipboard holds the eventID");

    // The pager gets the record and the keyboard; q gives both back.
    t.keys(&["o"]);
    t.wait_for("\"errorCode\": \"ValidationException\"");
    t.keys(&["q"]);
    t.wait_for("Events · 1 ");
    t.keys(&["["]);
    t.wait_for("Events · 20 ");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
}

/// The `:` command line with completion, and a configuration file: a key bound by name, a
/// bad entry reported with its line while the rest applies.
/// A stored load found damaged part way through, read by the TUI as it is checked: what was on
/// screen from it is withdrawn, the files are read instead, and the list ends with every event
/// once, the damage named among the problems.
#[test]
fn a_stored_load_damaged_part_way_through_is_withdrawn_from_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive_in(dir.path(), "archive", 30_000, 500, 2, 41, 3600, 86_400);
    let cache = dir.path().join("cache");
    let cmd = format!(
        "TRAILSCOPE_CACHE_DIR={} {} {}; echo EXITED:$?; sleep 30",
        shell_quote(cache.to_str().unwrap()),
        shell_quote(bin()),
        shell_quote(archive.to_str().unwrap())
    );
    let loads = cache.join("loads");
    let stored = || -> Option<std::path::PathBuf> {
        std::fs::read_dir(&loads)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "load") && !p.to_string_lossy().contains(".writing-"))
    };
    let t = Tmux::start("stored1", &cmd, 120, 40);
    t.wait_until("the whole load", |s| s.contains("30,000/30,000 events"));
    let start = Instant::now();
    let path = loop {
        if let Some(p) = stored() {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no stored load written");
        std::thread::sleep(Duration::from_millis(100));
    };
    t.keys(&["q"]);
    t.wait_for("EXITED:0");

    // A byte three quarters of the way into its frames: past its first MiB (a hash for each), so
    // events from it are on screen before the damage is read.
    let mut bytes = std::fs::read(&path).unwrap();
    let files_at = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let at = files_at * 3 / 4;
    assert!(at >= 2 << 20, "the frames reach past their second MiB: {files_at} bytes");
    bytes[48 + at] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();

    let t = Tmux::start("stored2", &cmd, 120, 40);
    let s = t.wait_until("the whole load, read again", |s| s.contains("30,000/30,000 events") && s.contains(" in "));
    assert!(s.contains("Events · 30,000 "), "every event once: {s}");
    // Nothing of the inputs was lost: a note, not a problem.
    assert!(s.contains("1 note (E)") && !s.contains("with problems"), "{s}");
    t.keys(&["E"]);
    let s = t.wait_for("is damaged (bytes");
    assert!(s.contains("reading the files") && s.contains("cache:"), "{s}");
    assert!(s.contains("Inputs with problems (0) · notes (1)") && s.contains("Every input was read."), "{s}");
    t.keys(&["Escape", "q"]);
    t.wait_for("EXITED:0");
}

#[test]
fn command_mode_and_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("trailscope");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("config.toml"),
        "time_zone = \"utc\"\ncolumns = [\"time\", \"event\", \"region\"]\n\n[keys]\n\"x\" = \"Quit\"\n\"y\" = \"Nope\"\n",
    )
    .unwrap();
    let out = dir.path().join("west.csv");
    // A cache of its own: this load always stores the archive index and says so, and that
    // news must not cover the configuration's error.
    let cmd = format!(
        "XDG_CONFIG_HOME={} TRAILSCOPE_CACHE_DIR={} {} {}; echo EXITED:$?; sleep 30",
        shell_quote(dir.path().to_str().unwrap()),
        shell_quote(dir.path().join("cache").to_str().unwrap()),
        shell_quote(bin()),
        shell_quote(&sample())
    );
    let t = Tmux::start("command", &cmd, 120, 40);
    let s = t.wait_for("Events · 3,000");
    assert!(s.contains("config.toml line 6") && s.contains("\"y\" = \"Nope\": no such action"), "{s}");
    assert!(s.contains("│  time                 event") && s.contains("region"), "configured columns: {s}");
    assert!(!s.contains("principal "), "only the configured columns: {s}");

    // :re + Tab completes to ":region ", then a region; files: it becomes the filter's region.
    t.keys(&[":"]);
    t.type_text("re");
    t.keys(&["Tab"]);
    let s = t.wait_for("region REGION");
    assert!(s.contains("region "), "{s}");
    t.type_text("us-west-2");
    t.keys(&["Enter"]);
    let s = t.wait_for("region:=us-west-2");
    assert_eq!(filter_line(&s), "region:=us-west-2");
    t.keys(&[":"]);
    t.type_text("since 2025-12-31T00:00:00Z");
    t.keys(&["Enter"]);
    let s = t.wait_for("since:2025-12-31");
    let filter = filter_line(&s);
    assert_eq!(filter, "region:=us-west-2 since:2025-12-31T00:00:00Z");
    // An unknown command says so.
    t.keys(&[":"]);
    t.type_text("regoin x");
    t.keys(&["Enter"]);
    t.wait_for("unknown command :regoin");

    t.keys(&[":"]);
    t.type_text(&format!("export {}", out.display()));
    t.keys(&["Enter"]);
    t.wait_for("exported");
    let printed = run(&["print", "--format", "csv", "--filter", &filter, &sample()]);
    assert_eq!(std::fs::read(&out).unwrap(), printed.stdout);

    // The key bound in the file quits.
    t.keys(&["x"]);
    t.wait_for("EXITED:0");
}

/// `:region` in live history starts again in the other region: only its events are shown,
/// and the requests that follow go there.
#[test]
fn command_region_switches_live_history() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), 300, 2, 7, 600, 3600);
    let (_rt, double) = serve(&archive);
    let count = |region: &str| double.records().iter().filter(|r| r.region == region).count();
    let (r1, r2) = ("us-east-1", "us-west-2");
    assert!(count(r1) > 0 && count(r2) > 0, "the archive has both regions");
    let cmd = format!(
        "env -u AWS_PROFILE -u AWS_REGION AWS_ACCESS_KEY_ID=AKIDTUI AWS_SECRET_ACCESS_KEY=x AWS_CONFIG_FILE=/nonexistent \
         XDG_CONFIG_HOME=/nonexistent AWS_EC2_METADATA_DISABLED=true {} --endpoint-url {} --region {r1} --since 1d; \
         echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        double.endpoint()
    );
    let t = Tmux::start("liveregion", &cmd, 120, 40);
    t.keys(&["G"]);
    let s = t.wait_for("complete");
    assert!(s.contains(&format!("Events · {} ", count(r1))), "{s}");
    let before = double.log().len();
    t.keys(&[":"]);
    t.type_text(&format!("region {r2}"));
    t.keys(&["Enter"]);
    t.wait_for(&format!("profile (default), {r2}"));
    t.keys(&["G"]);
    let all = format!("Events · {} ", count(r2));
    t.wait_until(&format!("{r2}'s events"), |s| s.contains("complete") && s.contains(&all));
    let after: Vec<_> = double.log().into_iter().skip(before).collect();
    assert!(
        !after.is_empty() && after.iter().all(|e| e.region.as_deref() == Some(r2)),
        "later requests go to {r2}: {after:?}"
    );
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    double.shutdown();
}

/// `r` in live history with the local store: after new events arrive, a refresh asks AWS only
/// for the new part (and the last 15 minutes again, for late delivery), the list then holds
/// every event once, and the store has them all for the next start.
#[test]
fn refresh_with_the_cache_asks_only_for_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all");
    // 200 older events, then 30 of the last nine minutes that reach AWS after the first load.
    let old = recent_archive_in(&all, "old", 200, 100, 1, 21, 11 * 60, 4 * 3600);
    recent_archive_in(&all, "new", 30, 100, 1, 22, 10, 9 * 60);
    let (rt, double) = serve(&old);
    let port = double.port();
    let region = double.records()[0].region.clone();
    let cache = dir.path().join("cache");
    let endpoint = double.endpoint();
    let cmd = format!(
        "env -u AWS_PROFILE -u AWS_REGION AWS_ACCESS_KEY_ID=AKIDTUI AWS_SECRET_ACCESS_KEY=x AWS_CONFIG_FILE=/nonexistent \
         XDG_CONFIG_HOME=/nonexistent AWS_EC2_METADATA_DISABLED=true {} --cache-dir {} --endpoint-url {endpoint} \
         --region {region} --since 1d; echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        shell_quote(&cache.to_string_lossy()),
    );
    let before_first = trailscope::model::time::now_ms();
    let t = Tmux::start("refresh", &cmd, 120, 40);
    t.keys(&["G"]);
    let s = t.wait_for("complete");
    assert!(s.contains("Events · 200 "), "{s}");
    assert_eq!(double.log().len(), 4, "four pages the first time");
    double.shutdown();

    // The same account now has the new events too.
    let double = rt.block_on(trailscope_double::Double::start(&all, port, Default::default())).unwrap();
    assert_eq!(double.records().len(), 230);
    let before_refresh = trailscope::model::time::format_rfc3339(trailscope::model::time::now_ms());
    t.keys(&["r"]);
    t.keys(&["G"]);
    t.wait_until("all 230 events after the refresh", |s| s.contains("complete") && s.contains("Events · 230 "));
    let overlap = trailscope::cache::coverage::SETTLE_MS;
    let refetched = double.records().iter().filter(|r| r.time_ms >= before_first - overlap).count();
    let log = double.log();
    assert!((30..100).contains(&refetched), "{refetched}");
    assert_eq!(log.len(), refetched.div_ceil(50), "only the new part and the overlap: {log:?}");
    for e in &log {
        let start_ms = (e.start.unwrap_or(0.0) * 1000.0) as i64;
        assert!(start_ms >= before_first - overlap - 1000, "asked from {start_ms}");
    }
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    double.shutdown();

    // The store has every event once: offline, as the same identity, up to the refresh, the
    // same 230.
    let o = Command::new(bin())
        .args(["print", "--offline", "--endpoint-url", &endpoint, "--region", &region, "--since", "1d"])
        .args(["--until", &before_refresh])
        .arg("--cache-dir")
        .arg(&cache)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env("AWS_ACCESS_KEY_ID", "AKIDTUI")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids = ids(&jsonl_values(&o));
    assert_eq!(ids.len(), 230);
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 230);
}

/// `:profile` restarts live history as another identity from the AWS configuration: later
/// requests are signed with that profile's key.
#[test]
fn command_profile_switches_identity() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), 120, 1, 8, 600, 3600);
    let (_rt, double) = serve(&archive);
    let region = double.records()[0].region.clone();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, format!("[profile one]\nregion = {region}\n\n[profile two]\nregion = {region}\n")).unwrap();
    std::fs::write(
        &credentials,
        "[one]\naws_access_key_id = AKIDPROFILEONE\naws_secret_access_key = x\n\n\
         [two]\naws_access_key_id = AKIDPROFILETWO\naws_secret_access_key = y\n",
    )
    .unwrap();
    let cmd = format!(
        "env -u AWS_PROFILE -u AWS_REGION -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
         AWS_CONFIG_FILE={} AWS_SHARED_CREDENTIALS_FILE={} XDG_CONFIG_HOME=/nonexistent AWS_EC2_METADATA_DISABLED=true \
         {} --no-cache --endpoint-url {} --profile one --since 1d; echo EXITED:$?; sleep 30",
        shell_quote(&config.to_string_lossy()),
        shell_quote(&credentials.to_string_lossy()),
        shell_quote(bin()),
        double.endpoint()
    );
    let t = Tmux::start("liveprofile", &cmd, 120, 40);
    t.keys(&["G"]);
    let s = t.wait_for("complete");
    assert!(s.contains("Events · 120 "), "{s}");
    let first = double.log();
    assert!(!first.is_empty() && first.iter().all(|e| e.access_key.as_deref() == Some("AKIDPROFILEONE")), "{first:?}");
    t.keys(&[":"]);
    t.type_text("profile two");
    t.keys(&["Enter"]);
    // The region is the profile's (none was given on the command line).
    t.wait_for("live history: profile two, the default region");
    t.keys(&["G"]);
    t.wait_until("profile two's events", |s| {
        s.contains("complete") && s.contains("Events · 120 ") && double.log().len() > first.len()
    });
    let after: Vec<_> = double.log().into_iter().skip(first.len()).collect();
    assert!(after.iter().all(|e| e.access_key.as_deref() == Some("AKIDPROFILETWO")), "{after:?}");
    // A profile that does not exist is explained; the session goes on.
    let before = double.log().len();
    t.keys(&[":"]);
    t.type_text("profile nosuch");
    t.keys(&["Enter"]);
    let s = t.wait_for("live history stopped: profile nosuch is not in the AWS config or credentials file");
    assert!(s.contains("defined there: one, two"), "{s}");
    assert!(!s.contains("fetching"), "nothing is being fetched: {s}");
    assert_eq!(double.log().len(), before, "no request without the profile");
    // Back to a profile that works.
    t.keys(&[":"]);
    t.type_text("profile one");
    t.keys(&["Enter"]);
    t.keys(&["G"]);
    t.wait_for("Events · 120 ");
    t.keys(&["q"]);
    t.wait_for("EXITED:0");
    double.shutdown();
}

impl Tmux {
    /// Pastes `text` as a terminal does: bracketed when the app asked for it, and byte for
    /// byte (newlines kept).
    fn paste(&self, text: &str) {
        self.cmd(&["set-buffer", "-b", "e2e", text]);
        self.cmd(&["paste-buffer", "-p", "-r", "-d", "-b", "e2e", "-t", "e2e"]);
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Tmux {
    /// The pid of the pane's first process (the shell).
    fn shell_pid(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"]).stdout)
            .trim()
            .to_string()
    }
}

/// The process group in the foreground of a process's terminal, from /proc.
fn terminal_group(pid: &str) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.split_whitespace().nth(5)).unwrap_or_default().to_string()
}

/// A process's state letter from /proc (`T`: stopped).
fn process_state(pid: &str) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()).unwrap_or('?')
}

fn wait_for_state(pid: &str, stopped: bool) {
    let start = Instant::now();
    while (process_state(pid) == 'T') != stopped {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the app did not {}",
            if stopped { "stop" } else { "go on" }
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `stty -a` output on the screen says the terminal is in cooked mode: canonical
/// input and echo on (`icanon`, `echo`, not `-icanon`, `-echo`).
fn stty_is_cooked(screen: &str) -> bool {
    let words: Vec<&str> = screen.split_whitespace().collect();
    words.contains(&"icanon") && words.contains(&"echo")
}

/// Pasted text is text: in the list it does nothing (as keys, `:export` would write a file and
/// `q` quit), in the filter it is typed without its newlines and control characters, and it
/// is not submitted. Sent both as raw bracketed-paste bytes and as tmux's own paste (which
/// brackets only when the app asked for it).
#[test]
fn pasted_text_is_text_for_the_filter_never_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let export = format!(":export {}", out.display());
    let cmd = format!("{} {}; echo EXITED:$?; sleep 30", shell_quote(bin()), shell_quote(stratus().to_str().unwrap()));
    let t = Tmux::start("paste", &cmd, 120, 40);
    t.wait_for("310/310 events");
    t.type_text(&format!("\x1b[200~{export}\r\nq\x1b[201~"));
    t.paste("/name:=DeleteTrail\rq");
    let s = t.screen();
    assert!(s.contains("310/310 events") && !s.contains("EXITED"), "a paste in the list did something:\n{s}");
    assert!(filter_line(&s).starts_with("press / to filter"), "the filter is empty:\n{s}");
    t.keys(&["/"]);
    t.type_text(&format!("\x1b[200~name:=Delete\n{export}\nTrail\x1b[201~"));
    let want = format!("name:=Delete{export}Trail");
    let s = t.wait_until("the paste in the filter", |s| filter_line(s) == want);
    assert!(s.contains("Enter apply"), "still editing the filter (the newline did not submit it):\n{s}");
    t.keys(&["C-u"]);
    t.paste("name:=Delete\r\nTrail\u{7}\t");
    let s = t.wait_for("Events · 1 ");
    assert_eq!(filter_line(&s), "name:=DeleteTrail", "{s}");
    assert!(s.contains("Enter apply"), "still editing the filter:\n{s}");
    t.keys(&["Enter", "q"]);
    t.wait_for("EXITED:0");
    assert!(!out.exists(), "a paste exported the events");
}

/// Ctrl-Z and SIGTSTP suspend like any full-screen program, under a shell with job control:
/// while stopped the shell has a sane terminal (the main screen, no mouse reporting, canonical
/// echo); `fg` takes the terminal again and redraws, and keys work. Ctrl-Z in the pager stops
/// trailscope with it, and after `fg` and quitting the pager, trailscope goes on.
#[test]
fn ctrl_z_and_sigtstp_suspend_and_fg_redraws() {
    let t = Tmux::start("suspend", "PS1='$ ' bash --norc --noprofile -i", 100, 30);
    // One command, not a list: bash goes on with the rest of a list when its first stops.
    t.type_text(&format!("{} {}", shell_quote(bin()), shell_quote(stratus().to_str().unwrap())));
    t.keys(&["Enter"]);
    t.wait_for("310/310 events");
    let pid = t.app_pid();
    assert!(!pid.is_empty());
    for (how, stop) in [("Ctrl-Z", None), ("SIGTSTP", Some("-TSTP"))] {
        match stop {
            None => t.keys(&["C-z"]),
            Some(sig) => assert!(Command::new("kill").args([sig, &pid]).status().unwrap().success()),
        }
        wait_for_state(&pid, true);
        let s = t.wait_until(&format!("the shell to say that {how} stopped the job"), |s| s.contains("Stopped"));
        assert!(!s.contains("Events ·"), "{how}: the alternate screen was left:\n{s}");
        assert_eq!(t.mouse_flags(), "000", "{how}: mouse reporting is off while stopped");
        t.keys(&["C-l"]);
        t.type_text("stty -a");
        t.keys(&["Enter"]);
        let s = t.wait_for("icanon");
        assert!(stty_is_cooked(&s), "{how}: the shell's terminal is not in cooked mode:\n{s}");
        t.keys(&["C-l"]);
        t.type_text("fg");
        t.keys(&["Enter"]);
        wait_for_state(&pid, false);
        // The alternate screen is blank when entered again: what is on it was drawn anew.
        t.wait_for("310/310 events");
        assert_eq!(t.mouse_flags(), "110", "{how}: mouse reporting is back");
        t.keys(&["/"]);
        t.type_text("name:=DeleteTrail");
        t.wait_for("Events · 1 ");
        t.keys(&["C-u", "Escape"]);
        t.wait_for("Events · 310 ");
    }
    t.keys(&["o"]);
    t.wait_until("the pager", |s| !s.contains("Events ·") && s.contains("\"awsRegion\""));
    t.keys(&["C-z"]);
    wait_for_state(&pid, true);
    // The shell has the terminal again. (Not read from the screen: the shell may report the
    // stop while the pager is still leaving its alternate screen.)
    let shell = t.shell_pid();
    let start = Instant::now();
    while terminal_group(&shell) != shell {
        assert!(start.elapsed() < Duration::from_secs(10), "the shell did not get the terminal back");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.type_text("fg");
    t.keys(&["Enter"]);
    wait_for_state(&pid, false);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["q"]);
    t.wait_for("310/310 events");
    std::thread::sleep(Duration::from_millis(300));
    assert_ne!(process_state(&pid), 'T', "trailscope goes on after the pager");
    t.keys(&["q"]);
    t.wait_until("trailscope to end", |_| process_state(&pid) == '?');
    t.type_text("echo EXITED:$?");
    t.keys(&["Enter"]);
    let s = t.wait_for("EXITED:0");
    assert!(!s.contains("Events ·"), "the alternate screen was left:\n{s}");
}

/// SIGQUIT restores the terminal as SIGTERM does (instead of dumping core over the alternate
/// screen), and so does an abort: an allocation that fails runs no panic hook (also with the
/// events on standard input, where the terminal is /dev/tty). After each, the
/// main screen, mouse reporting and bracketed paste off (a paste is plain text), and cooked
/// mode.
#[test]
fn sigquit_and_an_allocation_failure_restore_the_terminal() {
    let one_file = std::fs::read_dir(stratus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    // With events on standard input, the terminal put in raw mode is /dev/tty.
    for (way, code) in [("QUIT", 131), ("alloc", 134), ("alloc-stdin", 134)] {
        let (bin, input) = (shell_quote(bin()), shell_quote(stratus().to_str().unwrap()));
        let run = match way {
            "QUIT" => format!("{bin} {input}"),
            "alloc" => format!("TRAILSCOPE_INJECT_PANIC=alloc {bin} {input}"),
            _ => format!("cat {} | TRAILSCOPE_INJECT_PANIC=alloc {bin} -", shell_quote(one_file.to_str().unwrap())),
        };
        let cmd = format!("{run}; echo EXITED:$?; stty -a; sleep 30");
        let t = Tmux::start(&format!("out{way}"), &cmd, 100, 30);
        if way == "QUIT" {
            t.wait_for("310/310 events");
            let pid = t.app_pid();
            assert!(Command::new("kill").args(["-QUIT", &pid]).status().unwrap().success());
        }
        let s = t.wait_for(&format!("EXITED:{code}"));
        let s = if s.contains("icanon") { s } else { t.wait_for("icanon") };
        assert!(!s.contains("Events ·"), "{way}: the alternate screen was left:\n{s}");
        assert!(stty_is_cooked(&s), "{way}: not in cooked mode after exit:\n{s}");
        assert_eq!(t.mouse_flags(), "000", "{way}: mouse reporting is off");
        t.paste("pasted");
        let s = t.wait_for("pasted");
        assert!(!s.contains("200~"), "{way}: bracketed paste is still on:\n{s}");
    }
}

/// `print --format table` on a terminal fits its rows to the terminal's width (no row wraps
/// at 80 columns), and to `COLUMNS` when set; piped, rows keep their whole cells.
#[test]
fn print_table_fits_the_terminal_and_not_a_pipe() {
    let data = shell_quote(stratus().to_str().unwrap());
    let filter = "--filter=source:iam";
    let cmd = format!(
        "env -u COLUMNS {} print --no-cache --format table {filter} {data}; echo EXITED:$?; \
         COLUMNS=100 {} print --no-cache --format table {filter} {data}; echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        shell_quote(bin())
    );
    let t = Tmux::start("table", &cmd, 80, 50);
    t.wait_until("both tables", |s| s.matches("EXITED:0").count() == 2);
    // Joined: a row that wrapped would be one line longer than the terminal.
    let out =
        String::from_utf8_lossy(&t.cmd(&["capture-pane", "-p", "-J", "-S", "-", "-t", "e2e"]).stdout).into_owned();
    let mut parts = out.split("EXITED:0");
    let (first, second) = (parts.next().unwrap(), parts.next().unwrap());
    let rows = |part: &str| -> Vec<String> {
        part.lines().filter(|l| !l.starts_with("trailscope:") && !l.trim().is_empty()).map(str::to_string).collect()
    };
    let widest = |part: &str| rows(part).iter().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(rows(first).len() > 3 && rows(first)[0].starts_with("TIME"), "{out}");
    assert!(widest(first) <= 80 && widest(first) > 70, "fitted to 80: {out}");
    assert!(rows(first).iter().any(|l| l.contains('…')), "cut cells end with an ellipsis: {out}");
    assert!(widest(second) <= 100 && widest(second) > 90, "fitted to COLUMNS: {out}");
    assert_eq!(rows(first).len(), rows(second).len());

    let piped = run(&["print", "--no-cache", "--format", "table", filter, stratus().to_str().unwrap()]);
    let widest_piped = String::from_utf8_lossy(&piped.stdout).lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest_piped > 100, "piped: whole cells ({widest_piped})");
}

/// An unknown TRAILSCOPE_THEME is said in the status bar (and under E); the TUI runs with the
/// theme it would have had without it.
#[test]
fn an_unknown_theme_is_a_warning_in_the_tui() {
    let cmd = format!(
        "env -u NO_COLOR TRAILSCOPE_THEME=neon {} {}; echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        shell_quote(stratus().to_str().unwrap())
    );
    let t = Tmux::start("theme", &cmd, 140, 30);
    t.wait_for("unknown theme \"neon\" in TRAILSCOPE_THEME");
    t.wait_for("Events · 310");
    t.keys(&["E"]);
    t.wait_for("TRAILSCOPE_THEME");
    t.keys(&["Escape", "q"]);
    t.wait_for("EXITED:0");
}
