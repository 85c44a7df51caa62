//! Helpers shared by the deployment tests: paths, external tools, the binary,
//! servers and Prometheus processes that are stopped when dropped.

use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "deploy-test-admin-key";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// A file of the repository, as text.
pub fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A YAML file of the repository.
pub fn yaml(relative: &str) -> Value {
    serde_yaml_ng::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_patientgen"))
}

/// An external program the deployment tests need. A missing one fails the test
/// with the package to install (scripts/test installs them when run as root).
pub fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")]) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is needed by the deployment tests and is not installed: `apt-get install -y {package}` \
         (scripts/test installs it when run as root)"
    )
}

/// Runs a command to completion within `limit`, returning its output.
pub fn run(cmd: &mut Command, limit: Duration) -> Output {
    let described = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {described}: {e}"));
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{described} did not finish within {limit:?}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs a command and fails the test with its output unless it succeeds.
pub fn run_ok(cmd: &mut Command, limit: Duration) -> String {
    let described = format!("{cmd:?}");
    let out = run(cmd, limit);
    assert!(
        out.status.success(),
        "{described} failed ({})\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

/// Polls `check` every 100 ms until it returns `Some`, failing with `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The environment variables `patientgen serve` (and `migrate`) read, taken from
/// the binary itself: every `[env: NAME]` of their `--help`, plus the `env` fields
/// of `patientgen config show --format json` once that command exists.
pub fn env_vars_the_binary_reads() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for sub in ["serve", "migrate"] {
        let help = run_ok(Command::new(bin()).args([sub, "--help"]), Duration::from_secs(30));
        for part in help.split("[env: ").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            assert!(!name.is_empty(), "unparsable `[env: ` in `patientgen {sub} --help`");
            names.insert(name);
        }
    }
    let config =
        run(Command::new(bin()).args(["config", "show", "--format", "json"]), Duration::from_secs(30));
    if config.status.success()
        && let Ok(v) = serde_json::from_slice::<Value>(&config.stdout)
    {
        collect_env_fields(&v, &mut names);
    }
    assert!(
        names.contains("DATABASE_URL") && names.contains("PATIENTGEN_BIND"),
        "unexpected --help: {names:?}"
    );
    names
}

fn collect_env_fields(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("env" | "env_var", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    _ => collect_env_fields(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_env_fields(i, out)),
        _ => {}
    }
}

/// A child process killed (and reaped) when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(mut cmd: Command, name: &str, log: PathBuf) -> Proc {
        let file = std::fs::File::create(&log).expect("log file");
        let err = file.try_clone().expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc { child, name: name.to_string(), log }
    }

    /// Fails with the log when the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}); log {}:\n{}",
                self.name,
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `patientgen serve` on a free loopback port.
pub struct Server {
    pub proc: Proc,
    pub url: String,
    pub addr: String,
}

impl Server {
    /// Starts `patientgen serve` with `envs` and waits until it is ready.
    pub fn start(dir: &Path, name: &str, envs: &[(&str, &str)], args: &[&str]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let data = dir.join(name);
        std::fs::create_dir_all(&data).expect("data dir");
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--bind", &addr, "--instance-id", name, "--workers", "1"])
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env("PATIENTGEN_ADMIN_KEY", ADMIN)
            .env_remove("API_KEY")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut proc = Proc::spawn(cmd, name, dir.join(format!("{name}.log")));
        let url = format!("http://{addr}");
        let ready = format!("{url}/api/v1/health/ready");
        wait_for(Duration::from_secs(90), &format!("{name} to be ready"), || {
            proc.assert_running();
            client().get(&ready).send().ok().filter(|r| r.status().is_success()).map(|_| ())
        });
        Server { proc, url, addr }
    }
}

pub fn get_json(url: &str) -> Value {
    let r = client().get(url).send().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status();
    let body = r.text().unwrap_or_default();
    assert!(status.is_success(), "GET {url}: {status} {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// The paths of the running server's OpenAPI document.
pub fn openapi_paths(server_url: &str) -> BTreeSet<String> {
    let doc = get_json(&format!("{server_url}/openapi.json"));
    doc["paths"].as_object().expect("paths").keys().cloned().collect()
}
