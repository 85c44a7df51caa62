//! The Dockerfile: multi-stage, a small runtime base, an unprivileged user, a
//! health check that works without curl (run here against a real server), and
//! settings the binary reads. There is no Docker engine here to build it.

use crate::common::*;
use std::process::Command;
use std::time::Duration;

/// Instructions of the Dockerfile: (keyword, arguments), continuation lines joined.
fn instructions() -> Vec<(String, String)> {
    let text = read("Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') && current.is_empty() || trimmed.is_empty() {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (kw, args) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((kw.to_ascii_uppercase(), args.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// The instructions of the last stage.
fn runtime_stage() -> Vec<(String, String)> {
    let all = instructions();
    let last_from = all.iter().rposition(|(k, _)| k == "FROM").expect("FROM");
    all[last_from..].to_vec()
}

fn healthcheck_command() -> Vec<String> {
    let stage = runtime_stage();
    let hc = &stage.iter().find(|(k, _)| k == "HEALTHCHECK").expect("the runtime stage has a HEALTHCHECK").1;
    let json = &hc[hc.find("CMD").expect("HEALTHCHECK CMD") + 3..];
    serde_json::from_str(json.trim()).expect("HEALTHCHECK CMD in exec (JSON) form")
}

#[test]
fn dockerfile_is_multi_stage_small_and_unprivileged() {
    let all = instructions();
    let froms: Vec<&String> = all.iter().filter(|(k, _)| k == "FROM").map(|(_, a)| a).collect();
    assert!(froms.len() >= 2, "the Dockerfile must be multi-stage: {froms:?}");
    // The build stage's Rust is at least the workspace's rust-version.
    let workspace = read("Cargo.toml");
    let wanted = workspace
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("rust-version");
    let rust = froms[0].strip_prefix("rust:").expect("the build stage is FROM rust:…");
    let version = rust.split('-').next().unwrap_or_default();
    let parse = |v: &str| v.split('.').map(|p| p.parse::<u32>().unwrap_or(0)).collect::<Vec<_>>();
    assert!(parse(version) >= parse(&wanted), "builder Rust {version} is older than rust-version {wanted}");

    let stage = runtime_stage();
    let base = &stage[0].1;
    assert!(
        base.starts_with("debian:") && base.contains("-slim") || base.starts_with("gcr.io/distroless/"),
        "the runtime base should be small (debian-slim or distroless): {base}"
    );
    let user = &stage.iter().rfind(|(k, _)| k == "USER").expect("the runtime stage sets USER").1;
    let uid = user.split(':').next().unwrap_or_default();
    assert!(!["root", "0", ""].contains(&uid), "the service must not run as root: USER {user}");
    // The Kubernetes pods run as the same user.
    let deployment = read("deploy/kubernetes/deployment.yaml");
    assert!(
        deployment.contains(&format!("runAsUser: {uid}")),
        "deployment.yaml runAsUser differs from USER {uid}"
    );
    assert!(stage.iter().any(|(k, a)| k == "ENTRYPOINT" && a.contains("patientgen")));

    // Only settings patientgen reads.
    let known = env_vars_the_binary_reads();
    for (_, args) in stage.iter().filter(|(k, _)| k == "ENV") {
        for pair in args.split_whitespace() {
            let name = pair.split('=').next().unwrap_or_default();
            assert!(known.contains(name), "Dockerfile ENV {name} is not read by patientgen");
        }
    }

    // Everything the build copies is in the context, which .dockerignore does not exclude.
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    assert!(ignored.iter().any(|l| l == "target"), ".dockerignore must exclude target/");
    for (_, args) in all.iter().filter(|(k, a)| k == "COPY" && !a.starts_with("--from")) {
        let parts: Vec<&str> = args.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            assert!(root().join(source).exists(), "COPY {source}: not in the repository");
            assert!(!ignored.iter().any(|i| i == source), "COPY {source}: excluded by .dockerignore");
        }
    }
    // The crates' manifests may name files outside crates/ (the deployment tests): they must be copied.
    let copied: Vec<String> = all
        .iter()
        .filter(|(k, a)| k == "COPY" && !a.starts_with("--from"))
        .flat_map(|(_, a)| a.split_whitespace().next().map(String::from))
        .collect();
    for manifest in ["crates/patientgen/Cargo.toml"] {
        for line in read(manifest).lines().filter(|l| l.trim_start().starts_with("path = \"../../")) {
            let target = line.split('"').nth(1).unwrap_or_default().trim_start_matches("../../");
            let top = target.split('/').next().unwrap_or_default();
            assert!(
                copied.iter().any(|c| c == top),
                "{manifest} names {target}, which the image build does not COPY"
            );
        }
    }
    // So may the workspace's patched crates (vendor/sqlx-core).
    for line in workspace.lines().filter(|l| l.contains("{ path = \"")) {
        let target = line.split('"').nth(1).unwrap_or_default();
        let top = target.split('/').next().unwrap_or_default();
        assert!(
            copied.iter().any(|c| c == top),
            "Cargo.toml patches with {target}, which the image build does not COPY"
        );
    }
}

#[test]
fn docker_healthcheck_command_probes_a_real_server() {
    let cmd = healthcheck_command();
    assert_eq!(cmd.first().map(String::as_str), Some("bash"), "the image has bash but no curl: {cmd:?}");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(dir.path(), "healthcheck", &[], &[]);
    let port = server.addr.rsplit(':').next().expect("port");
    let probe = |bind: &str| {
        let mut c = Command::new(&cmd[0]);
        c.args(&cmd[1..]).env_clear().env("PATH", "/usr/bin:/bin").env("PATIENTGEN_BIND", bind);
        run(&mut c, Duration::from_secs(10)).status.success()
    };
    assert!(probe(&format!("0.0.0.0:{port}")), "the health check fails against a healthy server");
    server.proc.assert_running();
    let closed = free_port();
    assert!(!probe(&format!("0.0.0.0:{closed}")), "the health check passes with nothing listening");
}
