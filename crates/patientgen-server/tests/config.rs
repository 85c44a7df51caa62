//! Library callers go through the same checks as `serve`, and `--demo-key`
//! gives an existing demo key the documented demo limits back.

use patientgen_server::config::DEMO_KEY;
use patientgen_server::{Profile, ServeError, ServerConfig, build_state, ensure_bootstrap_keys};
use patientgen_storage::keys::hash_key;
use patientgen_storage::{KeyLimits, PoolSettings, Store};

#[tokio::test]
async fn build_state_refuses_a_production_config_without_an_admin_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig {
        profile: Profile::Production,
        data_dir: dir.path().join("data"),
        ..ServerConfig::default()
    };
    let e = build_state(config).await.err().expect("refused");
    assert!(matches!(e, ServeError::Config(_)), "{e}");
    assert!(e.to_string().contains("`admin_key`"), "{e}");
    assert!(!dir.path().join("data").exists(), "refused before opening the database");
}

#[tokio::test]
async fn the_demo_key_gets_the_demo_limits_back_on_every_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(None, dir.path(), &PoolSettings::default()).await.expect("store");
    store.migrate().await.expect("migrate");
    let config =
        ServerConfig { demo_key: true, data_dir: dir.path().to_path_buf(), ..ServerConfig::default() };
    let now = chrono::Utc::now();
    ensure_bootstrap_keys(&store, &config, now).await.expect("bootstrap");
    let demo =
        || async { store.find_key_by_hash(&hash_key(DEMO_KEY)).await.expect("find").expect("demo key") };
    let key = demo().await;
    assert!(key.is_demo);
    assert_eq!(key.limits(), KeyLimits::demo());

    // An operator raised its limits (e.g. `patientgen keys limits`), then restarts with --demo-key.
    let raised =
        KeyLimits { max_patients_per_request: 5000, max_requests_per_minute: 600, ..KeyLimits::demo() };
    store.set_key_limits(&key.id, &raised, now).await.expect("set limits");
    assert_eq!(demo().await.limits(), raised);
    ensure_bootstrap_keys(&store, &config, now).await.expect("bootstrap again");
    assert_eq!(demo().await.limits(), KeyLimits::demo(), "reset to the documented demo limits");
    assert_eq!(demo().await.id, key.id, "the same key, not a new one");

    // A revoked demo key stays revoked (its limits are still reset).
    store.set_key_active(&key.id, false, now).await.expect("revoke");
    store.set_key_limits(&key.id, &raised, now).await.expect("set limits");
    ensure_bootstrap_keys(&store, &config, now).await.expect("bootstrap again");
    let after = demo().await;
    assert!(!after.is_active);
    assert_eq!(after.limits(), KeyLimits::demo());

    // Without --demo-key nothing is touched.
    store.set_key_limits(&key.id, &raised, now).await.expect("set limits");
    let off = ServerConfig { demo_key: false, ..config };
    ensure_bootstrap_keys(&store, &off, now).await.expect("bootstrap without demo");
    assert_eq!(demo().await.limits(), raised);
    store.close().await;
}
