//! scripts/staging: up (twice: idempotent), status, requests through the load
//! balancer reaching both instances, Prometheus scraping them, down (twice), and
//! status again. On its own database, Redis prefix, state directory and ports.

use crate::common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

struct Staging {
    dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Staging {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(root().join("scripts/staging"));
        cmd.args(args).envs(self.envs.iter().map(|(k, v)| (k, v)));
        for var in ["DATABASE_URL", "REDIS_URL", "PATIENTGEN_ADMIN_KEY", "PATIENTGEN_REDIS_PREFIX"] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = run(&mut self.cmd(args), Duration::from_secs(240));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = run(&mut self.cmd(&["down", "--purge"]), Duration::from_secs(120));
    }
}

/// A base port with base..=base+10 free.
fn free_port_base() -> u16 {
    for _ in 0..200 {
        let base = 20000 + (uuid::Uuid::new_v4().as_u128() % 40000) as u16;
        let free = (0..=10).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no free range of 11 ports found")
}

fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

fn pid_alive(pid: &str) -> bool {
    Command::new("kill")
        .args(["-0", pid])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn staging_script_runs_two_instances_behind_the_load_balancer() {
    for (t, p) in [
        ("haproxy", "haproxy"),
        ("prometheus", "prometheus"),
        ("psql", "postgresql-client"),
        ("redis-cli", "redis-tools"),
        ("curl", "curl"),
    ] {
        tool(t, p);
    }
    let db = std::env::var("PATIENTGEN_TEST_DATABASE_URL")
        .expect("PATIENTGEN_TEST_DATABASE_URL is not set: run the tests with scripts/test");
    let redis = std::env::var("PATIENTGEN_TEST_REDIS_URL")
        .expect("PATIENTGEN_TEST_REDIS_URL is not set: run the tests with scripts/test");
    let url = reqwest::Url::parse(&db).expect("database URL");
    let mut server = format!("{}://", url.scheme());
    if !url.username().is_empty() {
        server.push_str(url.username());
        if let Some(pw) = url.password() {
            server.push(':');
            server.push_str(pw);
        }
        server.push('@');
    }
    server.push_str(&format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(5432)));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let base = free_port_base();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state").display().to_string();
    let staging = Staging {
        envs: vec![
            ("PATIENTGEN_BIN".into(), bin().display().to_string()),
            ("STAGING_PORT_BASE".into(), base.to_string()),
            ("STAGING_DIR".into(), state),
            ("STAGING_POSTGRES_URL".into(), server),
            ("STAGING_DATABASE".into(), format!("staging_test_{}", &id[..12])),
            ("STAGING_REDIS_URL".into(), redis),
            ("STAGING_REDIS_PREFIX".into(), format!("staging-test-{}", &id[..12])),
        ],
        dir,
    };

    let (code, out, err) = staging.run(&["up"]);
    assert_eq!(code, 0, "scripts/staging up failed:\n{out}\n{err}");
    let env = parse_env(&out);
    for key in [
        "STAGING_URL",
        "STAGING_INSTANCE_URLS",
        "STAGING_PIDS",
        "DATABASE_URL",
        "REDIS_URL",
        "PATIENTGEN_REDIS_PREFIX",
        "PROMETHEUS_URL",
        "PATIENTGEN_ADMIN_KEY",
    ] {
        assert!(env.get(key).is_some_and(|v| !v.is_empty()), "`up` printed no {key}:\n{out}");
    }
    let file = std::fs::read_to_string(staging.state_dir().join("staging.env")).expect("staging.env");
    assert_eq!(file, out, "staging.env differs from what `up` printed");
    assert_eq!(env["STAGING_URL"], format!("http://127.0.0.1:{base}"));
    for u in env.values().filter(|v| v.starts_with("http")) {
        assert!(u.split_whitespace().all(|u| u.starts_with("http://127.0.0.1:")), "not loopback: {u}");
    }
    let pids: Vec<String> = env["STAGING_PIDS"].split_whitespace().map(String::from).collect();
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|p| pid_alive(p)), "instances not running: {pids:?}");

    let (code, out, _) = staging.run(&["status"]);
    assert_eq!(code, 0, "status after up:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "one line per component:\n{out}");
    assert!(lines.iter().all(|l| l.split_whitespace().nth(1) == Some("up")), "{out}");

    // Through the load balancer, requests reach both instances.
    let mut seen = BTreeSet::new();
    wait_for(Duration::from_secs(30), "the load balancer to reach both instances", || {
        let v = get_json(&format!("{}/api/v1/health", env["STAGING_URL"]));
        seen.insert(v["checks"]["job_worker"]["instance"].as_str().unwrap_or_default().to_string());
        (seen.len() == 2).then_some(())
    });
    assert_eq!(seen, BTreeSet::from(["staging-app-1".to_string(), "staging-app-2".to_string()]));
    let r = client()
        .get(format!("{}/api/v1/presets", env["STAGING_URL"]))
        .header("X-API-Key", &env["PATIENTGEN_ADMIN_KEY"])
        .send()
        .expect("request");
    assert_eq!(r.status().as_u16(), 200, "the admin key works through the load balancer");
    // Both instances use Redis, not per-instance limits.
    for instance in env["STAGING_INSTANCE_URLS"].split_whitespace() {
        let v = get_json(&format!("{instance}/api/v1/health"));
        assert_eq!(v["checks"]["rate_limiter"]["backend"], "redis", "{instance}: {v}");
        assert_eq!(v["checks"]["rate_limiter"]["shared_between_instances"], true, "{instance}: {v}");
    }

    // Prometheus scrapes both instances with deploy/prometheus's rules loaded.
    let prom = &env["PROMETHEUS_URL"];
    wait_for(Duration::from_secs(60), "Prometheus to scrape both instances", || {
        let q = reqwest::Url::parse_with_params(
            &format!("{prom}/api/v1/query"),
            [("query", "up{job=\"patientgen\"} == 1")],
        )
        .ok()?;
        let v: serde_json::Value = client().get(q).send().ok()?.json().ok()?;
        (v["data"]["result"].as_array()?.len() == 2).then_some(())
    });
    let rules = get_json(&format!("{prom}/api/v1/rules"));
    assert!(rules["data"]["groups"].as_array().is_some_and(|g| g.len() >= 2), "rules not loaded: {rules}");

    // `up` again changes nothing.
    let (code, out, err) = staging.run(&["up"]);
    assert_eq!(code, 0, "second up:\n{out}\n{err}");
    assert_eq!(parse_env(&out)["STAGING_PIDS"], env["STAGING_PIDS"], "a second `up` restarted the instances");

    let (code, out, err) = staging.run(&["down"]);
    assert_eq!(code, 0, "down:\n{out}\n{err}");
    assert!(pids.iter().all(|p| !pid_alive(p)), "instances still running after down: {pids:?}");
    let (code, out, _) = staging.run(&["status"]);
    assert_eq!(code, 3, "status after down:\n{out}");
    for name in ["app-1", "app-2", "lb", "prometheus"] {
        let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        assert_eq!(line.split_whitespace().nth(1), Some("down"), "{out}");
    }
    let (code, out, err) = staging.run(&["down"]);
    assert_eq!(code, 0, "a second down:\n{out}\n{err}");
}
