//! deploy/docker-compose.staging.yml, validated and normalised by Debian's
//! `docker-compose config` (no Docker engine is needed), and its cross-references:
//! HAProxy, Prometheus targets, Grafana provisioning and the server's settings.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

const FILE: &str = "deploy/docker-compose.staging.yml";
const SECRETS: [(&str, &str); 3] = [
    ("POSTGRES_PASSWORD", "pw"),
    ("PATIENTGEN_ADMIN_KEY", "admin-key"),
    ("GRAFANA_ADMIN_PASSWORD", "grafana"),
];

fn compose() -> Command {
    let mut cmd = Command::new(tool("docker-compose", "docker-compose"));
    cmd.current_dir(root()).args(["-f", FILE, "config"]);
    for (k, _) in SECRETS {
        cmd.env_remove(k);
    }
    cmd
}

/// The normalised configuration, as docker-compose understands it.
fn config() -> Value {
    let mut cmd = compose();
    cmd.envs(SECRETS);
    let out = run_ok(&mut cmd, Duration::from_secs(60));
    serde_yaml_ng::from_str(&out).expect("docker-compose config output")
}

fn env_of(service: &Value) -> Vec<(String, String)> {
    service["environment"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), String::from)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_file_is_valid_and_consistent() {
    let cfg = config();
    let services = cfg["services"].as_object().expect("services");
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    for wanted in ["postgres", "redis", "migrate", "app-1", "app-2", "lb", "prometheus", "grafana"] {
        assert!(names.contains(wanted), "{FILE}: no service {wanted} ({names:?})");
    }
    assert_eq!(services["postgres"]["image"], "postgres:15");
    assert_eq!(services["redis"]["image"], "redis:7");

    // The replicas and the migration are built from the repository's Dockerfile.
    let root = root();
    for name in ["app-1", "app-2", "migrate"] {
        let build = &services[name]["build"];
        let context = std::path::PathBuf::from(build["context"].as_str().expect("build context"));
        assert_eq!(context.canonicalize().expect("context"), root, "{name}: build context");
        assert!(
            context.join(build["dockerfile"].as_str().expect("dockerfile")).is_file(),
            "{name}: Dockerfile"
        );
    }
    assert_eq!(services["migrate"]["command"], serde_json::json!(["migrate"]));
    for name in ["app-1", "app-2"] {
        assert_eq!(
            services[name]["depends_on"]["migrate"]["condition"], "service_completed_successfully",
            "{name} must wait for the migration"
        );
    }

    // Every variable given to patientgen is one it reads.
    let known = env_vars_the_binary_reads();
    let mut instance_ids = BTreeSet::new();
    for name in ["app-1", "app-2", "migrate"] {
        for (k, v) in env_of(&services[name]) {
            assert!(known.contains(&k), "{FILE}: service {name} sets {k}, which patientgen does not read");
            if k == "PATIENTGEN_INSTANCE_ID" {
                instance_ids.insert(v);
            }
        }
    }
    assert_eq!(instance_ids.len(), 2, "the replicas need distinct instance ids");

    // Every bind-mounted file exists in deploy/, and every published port is loopback only.
    for (name, service) in services {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().and_then(|v| v.split(':').next()).unwrap_or_default();
            if source.starts_with('/') {
                let path = std::path::Path::new(source);
                assert!(path.exists(), "{name}: mounts {source}, which does not exist");
                assert!(
                    path.starts_with(root.join("deploy")),
                    "{name}: mounts {source} from outside deploy/"
                );
            }
        }
        for port in service["ports"].as_array().into_iter().flatten() {
            let p = port.as_str().map_or_else(|| port.to_string(), String::from);
            assert!(p.starts_with("127.0.0.1:"), "{name}: port {p} is published beyond loopback");
        }
    }

    // HAProxy: the variables its configuration uses are exactly those compose sets, they
    // point at the replicas' port, and the configuration is valid with them.
    let cfg_text = read("deploy/haproxy/haproxy.cfg");
    let used: BTreeSet<String> =
        cfg_text.split("${").skip(1).filter_map(|s| s.split('}').next()).map(String::from).collect();
    let lb_env = env_of(&services["lb"]);
    let set: BTreeSet<String> = lb_env.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(used, set, "deploy/haproxy/haproxy.cfg variables vs the lb service's environment");
    let app_port = env_of(&services["app-1"])
        .into_iter()
        .find(|(k, _)| k == "PATIENTGEN_BIND")
        .map(|(_, v)| v.rsplit(':').next().unwrap_or_default().to_string())
        .expect("PATIENTGEN_BIND");
    for (k, v) in &lb_env {
        if let Some(i) = k.strip_prefix("PATIENTGEN_APP_") {
            assert_eq!(v, &format!("app-{i}:{app_port}"), "{k}");
        }
    }
    let lb_volume = services["lb"]["volumes"][0].as_str().expect("lb volume");
    assert!(lb_volume.ends_with(":/usr/local/etc/haproxy/haproxy.cfg:ro"), "{lb_volume}");
    let mut check = Command::new(tool("haproxy", "haproxy"));
    check.args(["-c", "-f"]).arg(root.join("deploy/haproxy/haproxy.cfg")).envs(lb_env.iter().cloned());
    run_ok(&mut check, Duration::from_secs(30));

    // Prometheus scrapes the replicas and the load balancer by their service names.
    let targets = |file: &str| -> BTreeSet<String> {
        yaml(file)
            .as_array()
            .expect("file_sd list")
            .iter()
            .flat_map(|g| g["targets"].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(String::from))
            .collect()
    };
    let apps: BTreeSet<String> = ["app-1", "app-2"].iter().map(|a| format!("{a}:{app_port}")).collect();
    assert_eq!(targets("deploy/prometheus/targets/patientgen.yml"), apps);
    let lb_metrics =
        lb_env.iter().find(|(k, _)| k == "PATIENTGEN_LB_METRICS_BIND").expect("metrics bind").1.clone();
    assert_eq!(
        targets("deploy/prometheus/targets/haproxy.yml"),
        BTreeSet::from([format!("lb:{}", lb_metrics.rsplit(':').next().unwrap_or_default())])
    );

    // Grafana: the datasource URL names the prometheus service, the dashboard provider's path
    // is where compose mounts deploy/grafana/dashboards, and the home dashboard exists.
    let ds = yaml("deploy/grafana/provisioning/datasources/prometheus.yml");
    assert_eq!(ds["datasources"][0]["url"], "http://prometheus:9090");
    let provider = yaml("deploy/grafana/provisioning/dashboards/patientgen.yml");
    let path = provider["providers"][0]["options"]["path"].as_str().expect("provider path");
    let grafana_volumes: Vec<&str> = services["grafana"]["volumes"]
        .as_array()
        .expect("grafana volumes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let dashboards_mount = format!("{}:{path}:ro", root.join("deploy/grafana/dashboards").display());
    assert!(
        grafana_volumes.contains(&dashboards_mount.as_str()),
        "{dashboards_mount} not in {grafana_volumes:?}"
    );
    let home = env_of(&services["grafana"])
        .into_iter()
        .find(|(k, _)| k == "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
        .expect("home dashboard")
        .1;
    let file = home.strip_prefix(&format!("{path}/")).expect("home dashboard under the provider path");
    assert!(root.join("deploy/grafana/dashboards").join(file).is_file(), "home dashboard {file}");
}

#[test]
fn compose_refuses_to_start_without_its_secrets() {
    for (missing, _) in SECRETS {
        let mut cmd = compose();
        cmd.envs(SECRETS.iter().filter(|(k, _)| *k != missing).copied());
        let out = run(&mut cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "docker-compose config succeeded without {missing}");
        assert!(stderr.contains(&format!("set {missing}")), "no message naming {missing}: {stderr}");
    }
}
