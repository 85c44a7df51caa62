//! deploy/kubernetes: the manifests validate against the Kubernetes schemas
//! (kubernetes-validate), set only environment variables the binary reads,
//! probe routes a running server has, and refer to each other consistently.

use crate::common::*;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

const DIR: &str = "deploy/kubernetes";

/// Every document of every manifest: (file, document).
fn documents() -> Vec<(String, Value)> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(DIR))
        .expect(DIR)
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = read(&format!("{DIR}/{file}"));
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap_or_else(|e| panic!("{DIR}/{file}: {e}"));
            if !v.is_null() {
                out.push((file.clone(), v));
            }
        }
    }
    out
}

fn one<'a>(docs: &'a [(String, Value)], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|(_, d)| d["kind"] == kind).map(|(_, d)| d).collect();
    assert_eq!(found.len(), 1, "expected one {kind} in {DIR}");
    found[0]
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    selector.as_object().is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| &labels[k] == v))
}

#[test]
fn kubernetes_manifests_validate_against_the_schemas() {
    let validate = tool("kubernetes-validate", "kubernetes-validate (pip)");
    let docs = documents();
    let files: BTreeSet<&String> =
        docs.iter().filter(|(_, d)| d["kind"] != "Kustomization").map(|(f, _)| f).collect();
    for version in ["1.29.0", "1.37.0"] {
        let out = run_ok(
            Command::new(&validate)
                .current_dir(root().join(DIR))
                .args(["--strict", "-k", version])
                .args(&files),
            Duration::from_secs(120),
        );
        assert_eq!(out.matches(" passed ").count(), files.len(), "kubernetes-validate {version}:\n{out}");
    }
}

#[test]
fn kubernetes_manifests_are_consistent_with_the_binary_and_each_other() {
    let docs = documents();
    for (file, d) in &docs {
        assert!(d["apiVersion"].is_string() && d["kind"].is_string(), "{file}: apiVersion/kind");
        if d["kind"] != "Kustomization" {
            assert!(d["metadata"]["name"].is_string(), "{file}: metadata.name");
        }
    }
    // The kustomization applies every manifest but the example Secret.
    let kustomization = one(&docs, "Kustomization");
    let listed: BTreeSet<String> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r.as_str().map(String::from))
        .collect();
    let files: BTreeSet<String> = docs
        .iter()
        .filter(|(f, d)| d["kind"] != "Kustomization" && f != "secret.example.yaml")
        .map(|(f, _)| f.clone())
        .collect();
    assert_eq!(listed, files, "kustomization.yaml resources");

    let deployment = one(&docs, "Deployment");
    let name = deployment["metadata"]["name"].as_str().expect("name");
    let spec = &deployment["spec"];
    assert!(spec["replicas"].as_u64().is_some_and(|r| r >= 2), "the Deployment runs at least 2 replicas");
    let pod_labels = &spec["template"]["metadata"]["labels"];
    assert!(labels_match(&spec["selector"]["matchLabels"], pod_labels), "Deployment selector vs pod labels");
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);

    let containers = pod["containers"].as_array().expect("containers");
    let init = pod["initContainers"].as_array().cloned().unwrap_or_default();
    assert_eq!(containers.len(), 1, "one patientgen container");
    let main = &containers[0];
    assert_eq!(main["args"], serde_json::json!(["serve"]));
    let migrate = init.iter().find(|c| c["args"] == serde_json::json!(["migrate"]));
    let migrate = migrate.expect("an init container running `patientgen migrate`");
    assert_eq!(migrate["image"], main["image"], "migrate with the same image");

    // Environment: every variable set directly or through a ConfigMap is one patientgen reads,
    // and every Secret key referenced exists in the documented Secret.
    let known = env_vars_the_binary_reads();
    let configmaps: BTreeMap<String, Value> = docs
        .iter()
        .filter(|(_, d)| d["kind"] == "ConfigMap")
        .map(|(_, d)| (d["metadata"]["name"].as_str().unwrap_or_default().to_string(), d["data"].clone()))
        .collect();
    let secret = docs
        .iter()
        .find(|(f, d)| f == "secret.example.yaml" && d["kind"] == "Secret")
        .map(|(_, d)| d)
        .expect("secret.example.yaml documents the Secret");
    let secret_name = secret["metadata"]["name"].as_str().expect("secret name");
    let secret_keys: BTreeSet<&String> =
        secret["stringData"].as_object().expect("stringData").keys().collect();
    let mut set = BTreeMap::new();
    for c in containers.iter().chain(init.iter()) {
        for e in c["env"].as_array().into_iter().flatten() {
            let var = e["name"].as_str().expect("env name");
            assert!(known.contains(var), "{} sets {var}, which patientgen does not read", c["name"]);
            let secret_ref = &e["valueFrom"]["secretKeyRef"];
            if !secret_ref.is_null() {
                assert_eq!(secret_ref["name"], secret_name, "{var}: unknown Secret");
                let key = secret_ref["key"].as_str().expect("key").to_string();
                assert!(secret_keys.contains(&key), "{var}: Secret key {key} is not in secret.example.yaml");
            }
            if c == main {
                set.insert(var.to_string(), e["value"].as_str().map(String::from));
            }
        }
        for from in c["envFrom"].as_array().into_iter().flatten() {
            let cm = from["configMapRef"]["name"].as_str().expect("configMapRef");
            let data = configmaps.get(cm).unwrap_or_else(|| panic!("ConfigMap {cm} is not in {DIR}"));
            for var in data.as_object().expect("data").keys() {
                assert!(known.contains(var), "ConfigMap {cm} sets {var}, which patientgen does not read");
            }
        }
    }
    for var in ["DATABASE_URL", "REDIS_URL", "PATIENTGEN_ADMIN_KEY", "PATIENTGEN_BIND"] {
        assert!(set.contains_key(var), "the container does not set {var}");
    }

    // The probes name routes of a running server, on the port the server binds.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(dir.path(), "k8s-probes", &[], &[]);
    let paths = openapi_paths(&server.url);
    let port = main["ports"][0]["containerPort"].as_u64().expect("containerPort");
    let port_name = main["ports"][0]["name"].as_str().expect("port name");
    let bind = set["PATIENTGEN_BIND"].clone().expect("PATIENTGEN_BIND value");
    assert!(bind.ends_with(&format!(":{port}")), "PATIENTGEN_BIND {bind} vs containerPort {port}");
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        let get = &main[probe]["httpGet"];
        if probe != "startupProbe" {
            assert!(get.is_object(), "{probe} is missing");
        }
        if let Some(path) = get["path"].as_str() {
            assert!(paths.contains(path), "{probe} path {path} is not a route of patientgen");
            let r = client().get(format!("{}{path}", server.url)).send().expect("probe");
            assert_eq!(r.status().as_u16(), 200, "{probe} {path} on a healthy server");
            assert!(get["port"] == port_name || get["port"] == port, "{probe} port");
        }
    }
    server.proc.assert_running();
    assert_eq!(main["readinessProbe"]["httpGet"]["path"], "/api/v1/health/ready");
    assert_eq!(main["livenessProbe"]["httpGet"]["path"], "/api/v1/health/live");
    for c in containers.iter().chain(init.iter()) {
        let requests = &c["resources"]["requests"];
        assert!(
            requests["cpu"].is_string() && requests["memory"].is_string(),
            "{}: resource requests",
            c["name"]
        );
    }

    // Service, HPA and PDB point at the Deployment's pods.
    let service = one(&docs, "Service");
    assert!(labels_match(&service["spec"]["selector"], pod_labels), "Service selector");
    let target = &service["spec"]["ports"][0]["targetPort"];
    assert!(target == port_name || target == port, "Service targetPort {target}");
    let hpa = one(&docs, "HorizontalPodAutoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], name);
    let (min, max) = (hpa["spec"]["minReplicas"].as_u64(), hpa["spec"]["maxReplicas"].as_u64());
    assert!(min.is_some_and(|m| m >= 2) && max > min, "HPA replicas {min:?}..{max:?}");
    let pdb = one(&docs, "PodDisruptionBudget");
    assert!(labels_match(&pdb["spec"]["selector"]["matchLabels"], pod_labels), "PDB selector");
    let min_available = pdb["spec"]["minAvailable"].as_u64().expect("minAvailable");
    assert!(
        min.is_some_and(|m| min_available < m),
        "the PDB must allow a drain at the minimum replica count"
    );
}
