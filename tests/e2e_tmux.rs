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
    fn title(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["display-message", "-p", "-t", "e2e", "#{pane_title}"]).stdout)
            .trim()
            .to_string()
    }
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
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let double = rt.block_on(trailscope::double::Double::start(&archive, 0, Default::default())).unwrap();
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
        assert!(Command::new("kill").args([&format!("-{sig}"), &pid]).status().unwrap().success());
        let s = t.wait_for(&format!("EXITED:{code}"));
        assert!(!s.contains("Events ·"), "SIG{sig}: the alternate screen was left:\n{s}");
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

/// While an answer is slow to come, the UI stays responsive and says what it waits for.
#[test]
fn live_waiting_is_shown_and_the_ui_stays_responsive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = recent_archive(dir.path(), 100, 1, 42, 600, 3600);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let faults = trailscope::double::Faults {
        delay: trailscope::double::Trigger::EveryNth(1),
        delay_ms: 60_000,
        ..Default::default()
    };
    let cfg = trailscope::double::DoubleConfig { faults, ..Default::default() };
    let double = rt.block_on(trailscope::double::Double::start(&archive, 0, cfg)).unwrap();
    let cmd = format!(
        "env -u AWS_PROFILE -u AWS_REGION AWS_ACCESS_KEY_ID=AKIDTUI AWS_SECRET_ACCESS_KEY=x AWS_CONFIG_FILE=/nonexistent \
         AWS_EC2_METADATA_DISABLED=true {} --no-cache --endpoint-url {} --region us-east-1; echo EXITED:$?; sleep 30",
        shell_quote(bin()),
        double.endpoint()
    );
    let t = Tmux::start("waiting", &cmd, 120, 30);
    t.wait_for("waiting for us-east-1 (2s)");
    t.keys(&["?"]);
    t.wait_for("Keys in the list");
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
        t.cmd(&["send-keys", "-t", "e2e", "-l", "echoed"]);
        t.wait_for("echoed");
    }
}
