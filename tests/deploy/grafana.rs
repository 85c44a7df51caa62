//! deploy/grafana: the provisioned datasource and the dashboards' structure
//! (their queries are evaluated by the live-Prometheus test in prometheus.rs).

use crate::common::*;
use crate::prometheus::{dashboard, dashboard_files, panels};
use std::collections::BTreeSet;

#[test]
fn dashboards_use_the_provisioned_datasource_and_are_well_formed() {
    let ds = yaml("deploy/grafana/provisioning/datasources/prometheus.yml");
    let sources = ds["datasources"].as_array().expect("datasources");
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["type"], "prometheus");
    let uid = sources[0]["uid"].as_str().expect("the datasource has a fixed uid");
    let provider = yaml("deploy/grafana/provisioning/dashboards/patientgen.yml");
    assert_eq!(provider["providers"][0]["type"], "file");

    let mut uids = BTreeSet::new();
    for file in dashboard_files() {
        let name = file.display().to_string();
        let dash = dashboard(&file);
        assert!(
            uids.insert(dash["uid"].as_str().expect("dashboard uid").to_string()),
            "{name}: duplicate uid"
        );
        assert!(dash["title"].is_string() && dash["schemaVersion"].is_u64(), "{name}: title/schemaVersion");
        let mut ids = BTreeSet::new();
        let mut titles = BTreeSet::new();
        for p in panels(&dash) {
            let title = p["title"].as_str().expect("panel title").to_string();
            assert!(ids.insert(p["id"].as_u64().expect("panel id")), "{name}: duplicate panel id in {title}");
            let grid = &p["gridPos"];
            let (x, w) = (grid["x"].as_u64().expect("x"), grid["w"].as_u64().expect("w"));
            assert!(
                x + w <= 24 && grid["h"].as_u64().is_some() && grid["y"].as_u64().is_some(),
                "{name}: {title} gridPos"
            );
            if p["type"] == "row" {
                continue;
            }
            assert!(titles.insert(title.clone()), "{name}: two panels titled {title}");
            assert_eq!(p["datasource"]["uid"], uid, "{name}: {title} datasource");
            let mut refs = BTreeSet::new();
            for t in p["targets"].as_array().expect("targets") {
                assert_eq!(t["datasource"]["uid"], uid, "{name}: {title} query datasource");
                assert!(refs.insert(t["refId"].as_str().expect("refId")), "{name}: {title} duplicate refId");
                assert!(
                    t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                    "{name}: {title} empty query"
                );
            }
        }
    }
}
