//! The configuration through the real binary: `config show` (sources, masked
//! secrets), an unknown key in patientgen.toml, the production profile's
//! refusals and its start (JSON logs, no first-run key), and text logs without
//! ANSI colours when stderr is not a terminal. Each run starts from an empty
//! environment, so nothing of the caller's leaks in.

use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_patientgen");

/// The binary with an empty environment (plus `env`), run in `dir`.
fn patientgen(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(args).env_clear().stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    patientgen(dir, args, env).output().expect("run patientgen")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

const FILE: &str = r#"
workers = 3
body_limit = 4096
redis_prefix = "from-file"
admin_key = "file-admin-secret"

[production]
workers = 9

[staging]
workers = 4
"#;

#[test]
fn config_show_gives_each_value_its_source_file_env_flag_and_masks_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("patientgen.toml"), FILE).expect("write patientgen.toml");
    let env = [
        ("PATIENTGEN_REDIS_PREFIX", "from-env"),
        ("PATIENTGEN_WORKERS", "5"),
        ("DATABASE_URL", "postgres://app:db-secret@db.internal:5432/pg"),
    ];
    let out = run(
        dir.path(),
        &[
            "config",
            "show",
            "--format",
            "json",
            "--workers",
            "7",
            "--redis-url",
            "redis://:redis-secret@r:6379",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let setting = |key: &str| {
        doc["settings"].as_array().expect("settings").iter().find(|s| s["key"] == key).cloned().expect(key)
    };
    let source = |key: &str| setting(key)["source"].as_str().map(String::from).expect("source");
    // flag > env > file > default
    assert_eq!((setting("workers")["value"].clone(), source("workers")), (7.into(), "flag".into()));
    assert_eq!(setting("redis_prefix")["value"], "from-env");
    assert_eq!(source("redis_prefix"), "env");
    assert_eq!(setting("redis_prefix")["origin"], "env PATIENTGEN_REDIS_PREFIX");
    assert_eq!((setting("body_limit")["value"].clone(), source("body_limit")), (4096.into(), "file".into()));
    assert_eq!(source("bind"), "default");
    assert_eq!(setting("bind")["env"], "PATIENTGEN_BIND");
    assert_eq!(doc["profile"], "development");
    // Secrets: masked, the host kept for URLs.
    assert_eq!(setting("admin_key")["value"], "********");
    assert_eq!(source("admin_key"), "file");
    assert_eq!(setting("database_url")["value"], "postgres://app:********@db.internal:5432/pg");
    let table = run(dir.path(), &["config", "show", "--redis-url", "redis://:redis-secret@r:6379"], &env);
    let toml = run(dir.path(), &["config", "show", "--format", "toml"], &env);
    for shown in [stdout, text(&table.stdout), text(&toml.stdout), text(&table.stderr)] {
        for secret in ["file-admin-secret", "db-secret", "redis-secret"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
    }
    assert!(
        text(&table.stdout).contains("redis_prefix")
            && text(&table.stdout).contains("env PATIENTGEN_REDIS_PREFIX")
    );
    // The profile's section wins over the top level, below the environment.
    let staging = run(dir.path(), &["config", "show", "--format", "json", "--profile", "staging"], &[]);
    let doc: Value = serde_json::from_slice(&staging.stdout).expect("JSON");
    let workers =
        doc["settings"].as_array().expect("settings").iter().find(|s| s["key"] == "workers").cloned();
    let workers = workers.expect("workers");
    assert_eq!(workers["value"], 4);
    assert!(
        workers["origin"].as_str().is_some_and(|o| o.ends_with("patientgen.toml [staging]")),
        "{workers}"
    );
    // The TOML form reads back as a configuration file.
    let written = dir.path().join("shown.toml");
    std::fs::write(&written, text(&toml.stdout).replace("********", "x")).expect("write");
    let again = run(dir.path(), &["config", "show", "--config", "shown.toml"], &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
}

#[test]
fn an_unknown_key_is_an_error_naming_the_key_and_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("site.toml");
    std::fs::write(&file, "[production]\nwrokers = 4\n").expect("write");
    for args in [&["config", "show"][..], &["serve"][..]] {
        let out = run(dir.path(), args, &[("PATIENTGEN_CONFIG", file.to_str().expect("utf-8 path"))]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("unknown key `production.wrokers`"), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
    }
}

#[test]
fn production_refuses_to_start_without_an_admin_key_on_a_public_plain_http_bind_or_with_the_demo_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let port = free_port().to_string();
    let public = format!("0.0.0.0:{port}");
    let local = format!("127.0.0.1:{port}");
    let prod = [("PATIENTGEN_PROFILE", "production")];
    let key = [("PATIENTGEN_PROFILE", "production"), ("PATIENTGEN_ADMIN_KEY", "prod-admin-key-0001")];
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (
            &["--bind", &local],
            &prod,
            "`admin_key` (--admin-key, PATIENTGEN_ADMIN_KEY) must be set in production",
        ),
        (
            &["--bind", &public],
            &key,
            "`bind` (--bind, PATIENTGEN_BIND) must be a loopback address in production",
        ),
        (
            &["--bind", &local, "--demo-key"],
            &key,
            "`demo_key` (--demo-key, PATIENTGEN_DEMO_KEY) must be off in production",
        ),
        (&["--bind", &public, "--behind-proxy=false"], &key, "put a TLS-terminating proxy in front"),
    ];
    for (args, env, message) in cases {
        let mut all = vec!["serve", "--data-dir", data];
        all.extend_from_slice(args);
        let out = run(dir.path(), &all, env);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(text(&out.stdout).is_empty(), "{args:?}");
    }
    assert!(!Path::new(data).exists(), "refused before touching the database");
}

/// Starts `serve` with stdout and stderr piped, waits for `/health`, stops it
/// with SIGTERM and returns (stdout, stderr).
#[cfg(unix)]
fn serve_once(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let data = dir.join("data");
    let mut all =
        vec!["serve", "--bind", &bind, "--workers", "0", "--data-dir", data.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    let mut child =
        patientgen(dir, &all, env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("serve");
    let url = format!("http://{bind}/health");
    let client =
        reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(&url).send().is_ok_and(|r| r.status().is_success()) {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().expect("stderr").read_to_string(&mut err);
            panic!("serve exited ({status}): {err}");
        }
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read stderr");
    (out, err)
}

#[cfg(unix)]
#[test]
fn production_starts_with_json_logs_and_prints_no_first_run_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("PATIENTGEN_PROFILE", "production"), ("PATIENTGEN_ADMIN_KEY", "prod-admin-key-0002")];
    let (out, err) = serve_once(dir.path(), &[], &env);
    assert!(!out.contains("#key=") && !out.contains("First run"), "stdout: {out}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "logs: {err}");
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert!(err.contains("patientgen serving") && !err.contains("prod-admin-key-0002"), "{err}");
    // The same empty database in development gets its first-run key.
    let other = tempfile::tempdir().expect("tempdir");
    let (out, _) = serve_once(other.path(), &[], &[]);
    assert!(out.contains("#key="), "development prints the first-run key: {out}");
}

#[cfg(unix)]
#[test]
fn text_logs_carry_no_ansi_colours_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, err) =
        serve_once(dir.path(), &["--log-format", "text", "--no-first-run-key"], &[("RUST_LOG", "debug")]);
    assert!(err.contains("patientgen serving") && err.contains("INFO"), "{err}");
    assert!(!err.contains('\u{1b}'), "an ESC byte in piped logs: {err:?}");
}

#[test]
fn migrate_and_keys_find_the_database_where_serve_would() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("patientgen.toml"),
        "data_dir = \"top\"\n[staging]\ndata_dir = \"staged\"\n",
    )
    .expect("write patientgen.toml");
    let out = run(dir.path(), &["migrate"], &[("PATIENTGEN_PROFILE", "staging")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("staged").is_dir() && !dir.path().join("top").exists());
    let out = run(dir.path(), &["keys", "list", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("top").is_dir(), "development: the top-level data_dir");
    let out = run(dir.path(), &["migrate", "--data-dir", "flagged"], &[("PATIENTGEN_DATA_DIR", "env")]);
    assert!(out.status.success() && dir.path().join("flagged").is_dir() && !dir.path().join("env").exists());
}
