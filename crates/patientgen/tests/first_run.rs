//! `patientgen serve` on an empty database prints the first-run admin key once,
//! on stdout only, with the web page's link; `--no-first-run-key` and
//! `PATIENTGEN_FIRST_RUN_KEY=false` turn it off.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

fn healthy(url: &str) -> bool {
    reqwest::blocking::Client::new()
        .get(format!("{url}/health"))
        .timeout(Duration::from_secs(5))
        .send()
        .is_ok_and(|r| r.status().is_success())
}

/// Runs `serve` until it answers, stops it, and returns (stdout, stderr, url).
fn run_once(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (String, String, String) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patientgen"));
    cmd.args(["serve", "--bind", &format!("0.0.0.0:{port}"), "--workers", "0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env_remove("PATIENTGEN_ADMIN_KEY")
        .env_remove("API_KEY")
        .env_remove("DATABASE_URL")
        .env_remove("PATIENTGEN_FIRST_RUN_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start serve");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !healthy(&url) {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read stderr");
    (out, err, url)
}

#[cfg(unix)]
#[test]
fn the_first_start_prints_a_working_key_once_and_never_logs_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err, url) = run_once(dir.path(), &[], &[]);
    let link = out.split_whitespace().find(|w| w.contains("#key=")).expect("a link on stdout");
    // Bound to 0.0.0.0, the link names 127.0.0.1.
    assert!(link.starts_with(&format!("{url}/#key=sk_live_")), "{link}");
    let key = link.split("#key=").nth(1).expect("key");
    assert!(!err.contains(key), "the key must not appear in the logs");
    assert!(err.contains("first run"), "the logs say a key was made (without it): {err}");
    // The second start on the same database prints nothing; the key works.
    let (again, _, _) = run_once(dir.path(), &[], &[]);
    assert!(!again.contains("#key="), "{again}");
    let out = Command::new(env!("CARGO_BIN_EXE_patientgen"))
        .args(["keys", "list", "--format", "json", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("keys list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("First-run admin key"), "{listed}");
    assert!(!listed.contains(key), "only the hash and a prefix are stored");
}

#[cfg(unix)]
#[test]
fn the_flag_and_the_variable_turn_it_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, _, _) = run_once(dir.path(), &["--no-first-run-key"], &[]);
    assert!(!out.contains("#key="), "{out}");
    let (out, _, _) = run_once(dir.path(), &[], &[("PATIENTGEN_FIRST_RUN_KEY", "false")]);
    assert!(!out.contains("#key="), "{out}");
    // Still no key in the database: the next plain start is a first run.
    let (out, _, _) = run_once(dir.path(), &[], &[]);
    assert!(out.contains("#key="), "{out}");
}
