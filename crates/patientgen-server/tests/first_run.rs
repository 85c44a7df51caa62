//! The first-run admin key: created and printed once on an empty key table,
//! never when an admin key is configured or keys exist, and it works.

mod common;

use common::{ADMIN, Db, start};
use patientgen_server::first_run::announce;

fn printed(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[tokio::test]
async fn an_empty_database_gets_one_admin_key_printed_once() {
    let s = start(Db::Sqlite, |c| c.admin_key = None).await;
    let addr = "0.0.0.0:8123".parse().expect("addr");
    let mut out = Vec::new();
    let key = announce(&s.state, addr, &mut out).await.expect("announce").expect("a key on first run");
    let text = printed(&out);
    assert!(text.contains(&format!("http://127.0.0.1:8123/#key={key}")), "{text}");
    assert!(key.starts_with("sk_live_"));
    // The key works and has the admin scope.
    let (status, _) = s.json("/api/v1/jobs/", &key).await;
    assert_eq!(status, 200);
    // A second start on the same database prints nothing and creates nothing.
    let mut again = Vec::new();
    assert_eq!(announce(&s.state, addr, &mut again).await.expect("announce"), None);
    assert!(again.is_empty());
    let keys = s.state.store.list_keys(&Default::default()).await.expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "First-run admin key");
    assert!(keys[0].has_scope(patientgen_storage::Scope::Admin));
    s.stop().await;
}

#[tokio::test]
async fn a_configured_admin_key_or_the_switch_prevents_it() {
    // PATIENTGEN_ADMIN_KEY set: that key is the admin key, nothing is printed.
    let s = start(Db::Sqlite, |_| {}).await;
    let mut out = Vec::new();
    assert_eq!(announce(&s.state, "127.0.0.1:1".parse().expect("addr"), &mut out).await.expect("ok"), None);
    assert!(out.is_empty());
    assert_eq!(s.state.store.list_keys(&Default::default()).await.expect("keys").len(), 1);
    s.stop().await;

    // Switched off (`--no-first-run-key`) on an empty database.
    let s = start(Db::Sqlite, |c| {
        c.admin_key = None;
        c.first_run_key = false;
    })
    .await;
    let mut out = Vec::new();
    assert_eq!(announce(&s.state, "127.0.0.1:1".parse().expect("addr"), &mut out).await.expect("ok"), None);
    assert!(out.is_empty());
    assert!(s.state.store.list_keys(&Default::default()).await.expect("keys").is_empty());
    s.stop().await;
}

#[tokio::test]
async fn only_the_demo_key_still_counts_as_empty_but_other_keys_do_not() {
    // The public demo key alone does not make a first run.
    let s = start(Db::Sqlite, |c| {
        c.admin_key = None;
        c.demo_key = true;
    })
    .await;
    let mut out = Vec::new();
    let addr = "127.0.0.1:8000".parse().expect("addr");
    assert!(announce(&s.state, addr, &mut out).await.expect("ok").is_some());
    s.stop().await;

    // A key made earlier (e.g. with `patientgen keys create`) means no first run.
    let s = start(Db::Sqlite, |c| c.admin_key = None).await;
    let settings = patientgen_storage::KeySettings {
        name: "made by hand".into(),
        email: None,
        is_demo: false,
        scopes: patientgen_storage::Scopes::new([
            patientgen_storage::Scope::Generate,
            patientgen_storage::Scope::Read,
        ]),
        limits: Default::default(),
        expires_at: None,
        metadata: serde_json::json!({}),
    };
    s.state.store.ensure_key(ADMIN, settings, s.state.clock.now()).await.expect("key");
    let mut out = Vec::new();
    assert_eq!(announce(&s.state, addr, &mut out).await.expect("ok"), None);
    assert!(out.is_empty());
    s.stop().await;
}
