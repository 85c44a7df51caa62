//! Moving from upstream (issue #7.18): patientgen's tables live in a schema of
//! their own, so a database holding upstream's alembic tables (recreated from
//! its public migrations: tests/fixtures/upstream_alembic_head.sql) is safe to
//! share; a schema that cannot be migrated is reported once, plainly;
//! `patientgen import upstream` brings upstream's keys (hashed) and saved
//! configurations over; tables an earlier version left in `public` are moved
//! by `patientgen migrate --move-from public`.

use patientgen_storage::keys::hash_key;
use patientgen_storage::testing::{drop_postgres_database, execute_sql, fresh_postgres_database, query_i64};
use patientgen_storage::{PoolSettings, Scope, Store};
use std::path::{Path, PathBuf};
use std::process::Command;

const UPSTREAM_SCHEMA: &str = include_str!("fixtures/upstream_alembic_head.sql");
const LIVE_KEY: &str = "sk_live_a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const OLD_KEY: &str = "sk_live_b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const DEMO_KEY: &str = "DEMO_MILMED_2025_50_PATIENTS";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_patientgen"))
}

/// What `patientgen migrate` reports for a PostgreSQL database it brought up to date.
fn postgres_migrations_applied() -> String {
    format!("({} applied)", patientgen_storage::testing::known_migrations().0)
}

/// Runs `patientgen args…`; returns (success, stdout, stderr).
fn patientgen(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PATIENTGEN_DATA_DIR")
        .output()
        .expect("run patientgen");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `url` whose connections use `schema` (libpq's `options`).
fn in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

fn upstream_rows() -> String {
    format!(
        "INSERT INTO api_keys (key, name, email, max_patients_per_request, max_requests_per_day, \
           max_requests_per_minute, max_requests_per_hour, metadata) \
           VALUES ('{LIVE_KEY}', 'Exercise cell', 'cell@example.org', 250, 500, 30, 400, '{{\"team\": \"red\"}}');
         INSERT INTO api_keys (key, name, is_active, expires_at) \
           VALUES ('{OLD_KEY}', 'Old key', false, '2030-01-01T00:00:00Z');
         INSERT INTO api_keys (key, name, is_demo, max_patients_per_request, max_requests_per_day, \
           max_requests_per_minute, max_requests_per_hour, metadata) \
           VALUES ('{DEMO_KEY}', 'Public Demo Key', true, 50, 100, 10, 50, \
           '{{\"auto_created\": true, \"public_demo\": true}}');
         INSERT INTO configuration_templates (id, name, description, front_configs, facility_configs, \
           injury_distribution, total_patients) VALUES ('c1', 'Baltic', 'two fronts', \
           '[{{\"id\": \"north\", \"name\": \"North\", \"casualty_rate\": 0.6, \
              \"nationality_distribution\": [{{\"nationality_code\": \"USA\", \"percentage\": 100}}]}}]', \
           '[]', '{{\"Disease\": 52, \"Non-Battle Injury\": 33, \"Battle Injury\": 15}}', 500);
         INSERT INTO configuration_templates (id, name, front_configs, facility_configs, injury_distribution, \
           total_patients, version, parent_config_id) \
           SELECT 'c2', 'Baltic v2', front_configs, facility_configs, injury_distribution, 600, 2, 'c1' \
           FROM configuration_templates WHERE id = 'c1';"
    )
}

async fn open(url: &str) -> Store {
    Store::connect(Some(url), Path::new("."), &PoolSettings::default()).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread")]
async fn upstreams_database_is_shared_safely_and_its_keys_and_configurations_come_over() {
    let url = fresh_postgres_database().await;
    execute_sql(&url, UPSTREAM_SCHEMA).await;
    execute_sql(&url, &upstream_rows()).await;

    // Pointed at upstream's own tables, migrate says what it found, once.
    let (ok, _, err) = patientgen(&["migrate", "--database-url", &in_schema(&url, "public")]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "one message:\n{err}");
    assert!(
        err.contains("schema \"public\" already holds tables api_keys, configuration_templates, jobs"),
        "{err}"
    );
    assert!(err.contains("alembic_version") && err.contains("patientgen import upstream"), "{err}");
    assert!(!err.contains("owner_key_id"), "{err}");

    // By default patientgen's tables go to their own schema; upstream's stay as they were.
    let (ok, out, err) = patientgen(&["migrate", "--database-url", &url]);
    assert!(ok, "{err}");
    assert!(out.contains(&postgres_migrations_applied()), "{out}");
    let ours = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'patientgen' \
                AND table_name IN ('api_keys', 'jobs', 'configuration_templates', '_sqlx_migrations')";
    assert_eq!(query_i64(&url, ours).await, 4);
    assert_eq!(query_i64(&url, "SELECT COUNT(*) FROM public.api_keys").await, 3);
    assert_eq!(query_i64(&url, "SELECT COUNT(*) FROM public.configuration_templates").await, 2);

    let import = ["import", "upstream", "--from", &url, "--database-url", &url];
    let (ok, out, err) = patientgen(&import);
    assert!(ok, "{err}");
    assert!(out.contains("imported 3 API key(s) (1 inactive, stored hashed), skipped 0"), "{out}");
    assert!(out.contains("imported 2 saved configuration(s), skipped 0"), "{out}");
    // Again: nothing twice.
    let (ok, out, err) = patientgen(&import);
    assert!(ok, "{err}");
    assert!(out.contains("imported 0 API key(s) (0 inactive, stored hashed), skipped 3"), "{out}");
    assert!(out.contains("imported 0 saved configuration(s), skipped 2"), "{out}");

    let store = open(&url).await;
    assert_eq!(store.schema(), Some("patientgen"));
    let live = store.find_key_by_hash(&hash_key(LIVE_KEY)).await.expect("query").expect("imported");
    assert_eq!(
        (live.name.as_str(), live.email.as_deref(), live.is_active, live.is_demo),
        ("Exercise cell", Some("cell@example.org"), true, false)
    );
    assert_eq!(
        (live.max_patients_per_request, live.max_requests_per_minute, live.max_requests_per_hour),
        (250, 30, 400)
    );
    assert_eq!((live.max_requests_per_day, live.max_patients_per_day), (Some(500), None));
    assert!(live.has_scope(Scope::Generate) && live.has_scope(Scope::Read) && !live.has_scope(Scope::Admin));
    assert_eq!(live.key_metadata["upstream_metadata"]["team"], "red");
    assert_eq!(live.key_metadata["imported_from"], "medical-patients");
    let old = store.find_key_by_hash(&hash_key(OLD_KEY)).await.expect("query").expect("imported");
    assert!(!old.is_active);
    assert_eq!(old.expires_at.map(|t| t.to_rfc3339()), Some("2030-01-01T00:00:00+00:00".into()));
    let demo = store.find_key_by_hash(&hash_key(DEMO_KEY)).await.expect("query").expect("imported");
    assert!(demo.is_demo);
    assert_eq!((demo.max_patients_per_request, demo.max_requests_per_day), (50, Some(100)));
    // Hashed on the way in: no plaintext in our tables.
    let plaintext = format!(
        "SELECT COUNT(*) FROM patientgen.api_keys WHERE key_hash IN ('{LIVE_KEY}', '{OLD_KEY}', '{DEMO_KEY}') \
         OR key_prefix IN ('{LIVE_KEY}', '{OLD_KEY}') OR key_metadata::text LIKE '%sk_live_%'"
    );
    assert_eq!(query_i64(&url, &plaintext).await, 0);

    let c2 = store.get_configuration("c2", None).await.expect("query").expect("imported");
    assert_eq!((c2.name.as_str(), c2.total_patients, c2.version), ("Baltic v2", 600, 2));
    assert_eq!(c2.parent_config_id.as_deref(), Some("c1"));
    assert_eq!(c2.front_configs[0]["nationality_distribution"][0]["nationality_code"], "USA");
    let c1 = store.get_configuration("c1", None).await.expect("query").expect("imported");
    assert_eq!(
        (c1.description.as_deref(), c1.injury_distribution["Disease"].as_i64()),
        (Some("two fronts"), Some(52))
    );
    store.close().await;

    // Upstream's users keep their keys: they authenticate with their limits.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = patientgen_server::ServerConfig {
        database_url: Some(url.clone().into()),
        data_dir: dir.path().to_path_buf(),
        workers: 0,
        first_run_key: false,
        ..patientgen_server::ServerConfig::default()
    };
    let state = patientgen_server::build_state(config).await.expect("server state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(patientgen_server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let get = |key: &'static str| {
        client.get(format!("http://{address}/api/v1/jobs/")).header("X-API-Key", key).send()
    };
    let r = get(LIVE_KEY).await.expect("request");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit"], "30");
    assert_eq!(r.headers()["x-daily-limit"], "500");
    assert_eq!(r.headers()["x-patient-limit"], "250");
    assert_eq!(
        get(OLD_KEY).await.expect("request").status().as_u16(),
        401,
        "inactive upstream, inactive here"
    );
    assert_eq!(get(DEMO_KEY).await.expect("request").headers()["x-api-key-type"], "demo");
    let _ = stop.send(());
    let _ = server.await;

    // Not a medical-patients database: said plainly.
    let empty = fresh_postgres_database().await;
    let (ok, _, err) = patientgen(&["import", "upstream", "--from", &empty, "--database-url", &url]);
    assert!(!ok);
    assert!(err.contains("neither api_keys nor configuration_templates"), "{err}");
    drop_postgres_database(&empty).await;
    drop_postgres_database(&url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_an_earlier_version_left_in_public_are_moved_once() {
    let url = fresh_postgres_database().await;
    let public = in_schema(&url, "public");
    // The layout before the own schema: everything in public.
    let (ok, _, err) = patientgen(&["migrate", "--database-url", &public]);
    assert!(ok, "{err}");
    let (ok, out, err) =
        patientgen(&["keys", "create", "--name", "Kept", "--format", "json", "--database-url", &public]);
    assert!(ok, "{err}");
    let key = serde_json::from_str::<serde_json::Value>(&out).expect("json")["key"]
        .as_str()
        .expect("key")
        .to_string();

    // Upgraded without a word: refused, saying what to do (not an empty new schema).
    let (ok, _, err) = patientgen(&["migrate", "--database-url", &url]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--move-from public") && err.contains("search_path=public"), "{err}");
    assert_eq!(
        query_i64(&url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'patientgen'")
            .await,
        0
    );

    let (ok, out, err) = patientgen(&["migrate", "--database-url", &url, "--move-from", "public"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("from schema \"public\" to \"patientgen\"")
            && out.contains(&postgres_migrations_applied()),
        "{out}"
    );
    assert_eq!(
        query_i64(&url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'").await,
        0
    );
    let store = open(&url).await;
    let kept = store.find_key_by_hash(&hash_key(&key)).await.expect("query").expect("the key came along");
    // The key revision trigger works in the new schema.
    let before = store.key_revision().await.expect("revision");
    assert!(store.set_key_active(&kept.id, false, chrono::Utc::now()).await.expect("deactivate"));
    assert!(store.key_revision().await.expect("revision") > before);
    store.close().await;
    // A second move has nothing to move.
    let (ok, _, err) = patientgen(&["migrate", "--database-url", &url, "--move-from", "public"]);
    assert!(!ok);
    assert!(err.contains("nothing to move"), "{err}");
    drop_postgres_database(&url).await;
}
