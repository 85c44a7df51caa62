//! Storage on both backends: migrations, keys, tenancy, the job queue and files.

mod common;

use chrono::{Duration, Utc};
use patientgen_storage::*;

async fn each_backend(test: impl AsyncFn(Store)) {
    let dir = tempfile::tempdir().expect("tempdir");
    test(common::sqlite(dir.path()).await).await;
    test(common::postgres().await).await;
}

fn new_job(id: &str, owner: &str) -> NewJob {
    NewJob {
        job_id: id.into(),
        owner_key_id: Some(owner.into()),
        config: serde_json::json!({"total_patients": 10}),
        scenario: patientgen_core::ScenarioConfig::default().with_overrides(Some(10), Some(1)),
        options: JobOptions {
            output_formats: vec![patientgen_output::Format::Json, patientgen_output::Format::Csv],
            use_compression: true,
            use_encryption: false,
            priority: Priority::High,
            name: "Test".into(),
        },
        seed: u64::MAX - 1,
        total_patients: 10,
        encryption_key: None,
        generator_version: "test".into(),
    }
}

/// The job summary of ten generated patients.
fn summary_of_ten() -> JobSummary {
    use patientgen_core::summary::PatientFacts;
    let scenario = patientgen_core::ScenarioConfig::default()
        .with_overrides(Some(10), Some(1))
        .validate(patientgen_core::data::catalog(), Default::default())
        .expect("valid");
    let generator = patientgen_core::Generator::new(&scenario);
    let mut builder = patientgen_core::SummaryBuilder::default();
    for slot in generator.plan() {
        builder.add(&PatientFacts::of(&generator.patient(&slot)));
    }
    let summary = JobSummary::new(&builder.build(), 1);
    assert!(!summary.arrival_hours.is_empty());
    summary
}

#[tokio::test]
async fn migrations_apply_twice() {
    each_backend(async |store| {
        store.migrate().await.expect("second run is harmless");
        let applied = store.applied_migrations().await.expect("versions");
        assert_eq!(applied.len(), store.known_migrations());
        store.ping().await.expect("ping");
        assert!(!store.server_version().await.expect("version").is_empty());
    })
    .await;
}

/// Job file chunks are compressed with LZ4 (migration 0003 sets it where the
/// server offers it; a 1 MiB chunk of JSON then costs ~4× less server CPU than
/// with pglz).
#[tokio::test]
async fn job_file_chunks_are_stored_with_lz4() {
    let store = common::postgres().await;
    let (compression, offered) = patientgen_storage::testing::chunk_compression(&store).await;
    assert!(offered, "the test server offers lz4 (Debian's PostgreSQL 14+ does)");
    assert_eq!(compression, "l");
}

/// A connection of the pool to PostgreSQL has Nagle's algorithm off (sqlx
/// 0.9.0 stopped setting TCP_NODELAY; vendor/sqlx-core restores it): without
/// it a statement carrying a 1 MiB chunk often waited ~40 ms for the server's
/// delayed ACK. The socket is found among this process's descriptors by the
/// local port PostgreSQL reports for the connection.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn postgres_connections_disable_nagle() {
    use rustix::io::Errno;
    use rustix::net::{SocketAddrAny, sockopt};
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
    let store = common::postgres().await;
    let port = patientgen_storage::testing::pooled_connection_port(&store).await;
    let local_port = |addr: SocketAddrAny| std::net::SocketAddr::try_from(addr).ok().map(|a| a.port());
    let this = pidfd_open(getpid(), PidfdFlags::empty()).expect("pidfd of this process");
    let mut found = 0;
    for entry in std::fs::read_dir("/proc/self/fd").expect("fd list") {
        let Some(n) = entry.expect("fd").file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        // A duplicate of the descriptor, owned here; one closed meanwhile is skipped.
        let fd = match pidfd_getfd(&this, n, PidfdGetfdFlags::empty()) {
            Ok(fd) => fd,
            Err(Errno::BADF) => continue,
            Err(e) => panic!("pidfd_getfd of descriptor {n}: {e}"),
        };
        if rustix::net::getsockname(&fd).ok().and_then(local_port) == Some(port) {
            found += 1;
            assert!(
                sockopt::tcp_nodelay(&fd).expect("TCP_NODELAY"),
                "the connection from port {port} has Nagle on"
            );
        }
    }
    assert_eq!(found, 1, "one socket of this process has local port {port}");
}

#[tokio::test]
async fn keys_are_found_by_hash_only() {
    each_backend(async |store| {
        let now = Utc::now();
        let key = NewApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            key_hash: "a".repeat(64),
            key_prefix: "sk_live_abcd".into(),
            settings: KeySettings {
                name: "Exercise Alpha".into(),
                email: Some("ops@example.org".into()),
                is_demo: false,
                scopes: Scopes::new([Scope::Generate, Scope::Read]),
                limits: KeyLimits::default(),
                expires_at: None,
                metadata: serde_json::json!({}),
            },
        };
        let stored = store.insert_key(&key, now).await.expect("insert");
        assert_eq!(stored.max_requests_per_minute, 60);
        assert!(matches!(store.insert_key(&key, now).await, Err(StorageError::Conflict(_))));
        let found = store.find_key_by_hash(&"a".repeat(64)).await.expect("query").expect("found");
        assert_eq!(found.id, key.id);
        assert!(store.find_key_by_hash(&"b".repeat(64)).await.expect("query").is_none());
        assert!(store.get_key(&key.id[..8]).await.expect("prefix").is_some());
        assert!(store.get_key(&key.id[..8].to_uppercase()).await.expect("prefix").is_some(), "any case");
        assert!(store.get_key(&key.id[..7]).await.expect("prefix").is_none(), "8 characters at least");
        assert!(store.set_key_active(&key.id, false, now).await.expect("deactivate"));
        assert!(!store.get_key(&key.id).await.expect("get").expect("exists").is_active);
        let listed =
            store.list_keys(&KeyFilter { active_only: true, ..Default::default() }).await.expect("list");
        assert!(listed.iter().all(|k| k.id != key.id));
        let searched = store
            .list_keys(&KeyFilter { search: Some("alpha".into()), ..Default::default() })
            .await
            .expect("list");
        assert_eq!(searched.len(), 1);
        store.add_key_usage(&key.id, 3, 120, now, now - Duration::hours(1)).await.expect("usage");
        let k = store.get_key(&key.id).await.expect("get").expect("exists");
        assert_eq!((k.total_requests, k.total_patients_generated, k.daily_requests), (3, 120, 3));
        let stats = store.key_stats(now - Duration::days(30)).await.expect("stats");
        assert_eq!((stats.total_keys, stats.active_keys, stats.total_patients_all_time), (1, 0, 120));
        assert!(store.delete_key(&key.id).await.expect("delete"));
        assert!(store.get_key(&key.id).await.expect("get").is_none());
        // Two keys sharing a prefix: the prefix is ambiguous, a longer one is not.
        for suffix in ["1111-4111-8111-111111111111", "2222-4222-8222-222222222222"] {
            let twin =
                NewApiKey { id: format!("abcdef12-{suffix}"), key_hash: suffix.repeat(2), ..key.clone() };
            store.insert_key(&twin, now).await.expect("insert");
        }
        assert!(matches!(store.get_key("abcdef12").await, Err(StorageError::Ambiguous(_))));
        assert!(store.get_key("abcdef12-1111").await.expect("longer prefix").is_some());
    })
    .await;
}

#[tokio::test]
async fn keys_are_made_bootstrapped_imported_and_rotated_in_one_place() {
    each_backend(async |store| {
        let now = Utc::now();
        let settings = KeySettings {
            name: "Bootstrap".into(),
            email: None,
            is_demo: false,
            scopes: Scopes::parse("admin,generate,read").expect("scopes"),
            limits: KeyLimits::default(),
            expires_at: None,
            metadata: serde_json::json!({"bootstrap": true}),
        };
        let first = store.ensure_key("boot-key-0001", settings.clone(), now).await.expect("ensure");
        let again = store.ensure_key("boot-key-0001", settings.clone(), now).await.expect("ensure again");
        assert_eq!(first.id, again.id, "an existing key is kept");
        assert_eq!(first.key_hash, keys::hash_key("boot-key-0001"));
        assert_eq!(first.scopes.to_string(), "admin,generate,read");

        assert!(matches!(NewApiKey::import("short", settings.clone()), Err(KeyError::BadLength)));
        let forged = format!("{}x", keys::generate_key(keys::KeyKind::Live).expect("random"));
        assert!(matches!(NewApiKey::import(&forged, settings.clone()), Err(KeyError::BadChecksum)));
        let imported = NewApiKey::import("upstream-key-1234", settings.clone()).expect("import");
        assert_eq!(imported.settings.metadata, serde_json::json!({"imported": true}));

        let (new, plaintext) =
            store.rotate_key(&first, None, now + Duration::hours(1), now).await.expect("rotate");
        assert!(keys::checksum_valid(&plaintext) && plaintext.starts_with("sk_live_"));
        assert_eq!((new.name.as_str(), &new.scopes), ("Bootstrap (Rotated)", &first.scopes));
        assert_eq!(new.key_metadata, serde_json::json!({"rotated_from": first.id}));
        let old = store.get_key(&first.id).await.expect("get").expect("exists");
        assert_eq!(old.replaced_by.as_deref(), Some(new.id.as_str()));
        assert!(old.expires_at.is_some_and(|e| e > now));
    })
    .await;
}

#[tokio::test]
async fn key_changes_bump_the_revision_but_usage_does_not() {
    each_backend(async |store| {
        let now = Utc::now();
        let key = NewApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            key_hash: "c".repeat(64),
            key_prefix: "sk_live_cccc".into(),
            settings: KeySettings {
                name: "Revision".into(),
                email: None,
                is_demo: false,
                scopes: Scopes::new([Scope::Read]),
                limits: KeyLimits::default(),
                expires_at: None,
                metadata: serde_json::json!({}),
            },
        };
        let r0 = store.key_revision().await.expect("revision");
        store.insert_key(&key, now).await.expect("insert");
        let r1 = store.key_revision().await.expect("revision");
        assert!(r1 > r0, "insert bumps");
        store.add_key_usage(&key.id, 1, 5, now, now).await.expect("usage");
        assert_eq!(store.key_revision().await.expect("revision"), r1, "usage does not bump");
        store.set_key_active(&key.id, false, now).await.expect("deactivate");
        let r2 = store.key_revision().await.expect("revision");
        assert!(r2 > r1, "deactivation bumps");
        store.set_key_limits(&key.id, &KeyLimits::demo(), now).await.expect("limits");
        let r3 = store.key_revision().await.expect("revision");
        assert!(r3 > r2, "limits bump");
        store.set_key_expiry(&key.id, Some(now), now).await.expect("expiry");
        let r4 = store.key_revision().await.expect("revision");
        assert!(r4 > r3, "expiry bumps");
        store.delete_key(&key.id).await.expect("delete");
        assert!(store.key_revision().await.expect("revision") > r4, "delete bumps");
    })
    .await;
}

#[tokio::test]
async fn configurations_are_scoped_to_their_owner() {
    each_backend(async |store| {
        let now = Utc::now();
        let c = NewConfiguration {
            name: "Baltic".into(),
            description: None,
            front_configs: serde_json::json!([]),
            facility_configs: serde_json::json!([]),
            injury_distribution: serde_json::json!({"Disease": 1.0}),
            total_patients: 10,
            version: 1,
            parent_config_id: None,
            extra: serde_json::Map::from_iter([("tempo".to_string(), serde_json::json!("surge"))]),
        };
        store.insert_configuration("c1", Some("alice"), &c, now).await.expect("insert");
        assert!(store.get_configuration("c1", Some("alice")).await.expect("get").is_some());
        assert!(store.get_configuration("c1", Some("bob")).await.expect("get").is_none());
        assert!(store.get_configuration("c1", None).await.expect("admin").is_some());
        assert_eq!(store.list_configurations(Some("bob"), 100).await.expect("list").len(), 0);
        let mut changed = c.clone();
        changed.name = "Baltic 2".into();
        assert!(
            store.update_configuration("c1", Some("bob"), &changed, now).await.expect("update").is_none()
        );
        let updated = store
            .update_configuration("c1", Some("alice"), &changed, now)
            .await
            .expect("update")
            .expect("visible");
        assert_eq!(updated.name, "Baltic 2");
        assert_eq!(updated.extra["tempo"], "surge");
        assert!(!store.delete_configuration("c1", Some("bob")).await.expect("delete"));
        assert!(store.delete_configuration("c1", Some("alice")).await.expect("delete"));
    })
    .await;
}

#[tokio::test]
async fn the_job_queue_hands_each_job_to_one_worker() {
    each_backend(async |store| {
        let now = Utc::now();
        for i in 0..4 {
            store
                .insert_job(&new_job(&format!("j{i}"), "alice"), now + Duration::milliseconds(i))
                .await
                .expect("insert");
        }
        let lease = now + Duration::seconds(30);
        let mut claimed = Vec::new();
        let (a, b) = tokio::join!(store.claim_job("w1", lease, now), store.claim_job("w2", lease, now));
        claimed.extend([a.expect("claim"), b.expect("claim")].into_iter().flatten().map(|c| c.job.job_id));
        claimed.sort();
        claimed.dedup();
        assert_eq!(claimed.len(), 2, "two workers, two different jobs");
        let j = store.get_job(&claimed[0], None).await.expect("get").expect("exists");
        assert_eq!(j.status, JobStatus::Running);
        assert_eq!(
            (j.scenario.clone(), j.options.clone()),
            (new_job("x", "y").scenario, new_job("x", "y").options)
        );
        assert_eq!(j.options.file_names(), ["patients.json.gz", "patients.csv.gz"]);
        assert_eq!(j.seed_u64(), u64::MAX - 1);
        // Tenancy.
        assert!(store.get_job("j0", Some("bob")).await.expect("get").is_none());
        assert_eq!(store.list_jobs(Some("alice"), 100).await.expect("list").len(), 4);
        // Heartbeat keeps the lease; a cancel request is reported back.
        let progress = Progress { progress: 50, phase: "generating", patients_done: 5 };
        let holder = j.lease_owner.clone().unwrap_or_default();
        assert_eq!(
            store.heartbeat_job(&j.job_id, &holder, lease, &progress, now).await.expect("hb"),
            Some(false)
        );
        store.cancel_job(&j.job_id, Some("alice"), now).await.expect("cancel").expect("visible");
        assert_eq!(
            store.heartbeat_job(&j.job_id, &holder, lease, &progress, now).await.expect("hb"),
            Some(true)
        );
        assert!(
            store
                .finish_job(&j.job_id, &holder, JobStatus::Cancelled, "Job cancelled by user", now)
                .await
                .expect("finish")
        );
        // A pending job is cancelled at once.
        let pending = store.cancel_job("j3", Some("alice"), now).await.expect("cancel").expect("visible");
        assert_eq!(pending.status, JobStatus::Cancelled);
        // An expired lease lets another worker take over; the old holder can no longer finish it.
        let other = claimed[1].clone();
        let later = now + Duration::seconds(31);
        let stolen = store.claim_job("w3", later + Duration::seconds(30), later).await.expect("claim");
        let stolen = stolen.expect("a job to steal or the remaining pending one");
        let stolen = if stolen.job.job_id == other {
            stolen
        } else {
            store
                .claim_job("w3", later + Duration::seconds(30), later)
                .await
                .expect("claim")
                .expect("the expired one")
        };
        assert_eq!(stolen.job.job_id, other);
        assert_eq!(stolen.job.attempts, 2);
        let summary = summary_of_ten();
        let old_holder = if stolen.job.lease_owner.as_deref() == Some("w3") { "w1" } else { "w2" };
        assert!(!store.complete_job(&other, old_holder, &summary, 10, later).await.expect("complete"));
        assert!(store.complete_job(&other, "w3", &summary, 10, later).await.expect("complete"));
        let done = store.get_job(&other, None).await.expect("get").expect("exists");
        assert_eq!((done.status, done.progress), (JobStatus::Completed, 100));
        assert_eq!(done.summary.as_ref(), Some(&summary), "the summary reads back as written");
        // Graceful shutdown puts running jobs back.
        store.insert_job(&new_job("j9", "alice"), later).await.expect("insert");
        let c =
            store.claim_job("w4", later + Duration::seconds(30), later).await.expect("claim").expect("job");
        assert_eq!(store.requeue_jobs_of("w4", later).await.expect("requeue"), 1);
        assert_eq!(
            store.get_job(&c.job.job_id, None).await.expect("get").expect("exists").status,
            JobStatus::Pending
        );
        // Retention.
        let expired = store.expired_jobs(later + Duration::days(8)).await.expect("expired");
        assert!(expired.contains(&other));
        assert!(store.delete_job(&other, Some("alice")).await.expect("delete"));
    })
    .await;
}

#[tokio::test]
async fn job_files_round_trip_through_the_artifact_store() {
    each_backend(async |store| {
        let now = Utc::now();
        store.insert_job(&new_job("f1", "alice"), now).await.expect("insert");
        let artifacts = ArtifactStore::for_store(&store);
        let scratch = artifacts.scratch_dir("f1");
        std::fs::create_dir_all(&scratch).expect("scratch");
        let content: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i % 251) as u8).collect();
        let path = scratch.join("patients.zip");
        std::fs::write(&path, &content).expect("write");
        let meta = JobFile {
            job_id: "f1".into(),
            name: "patients.zip".into(),
            format: "zip".into(),
            bytes: content.len() as i64,
            sha256: "x".into(),
            content_type: "application/zip".into(),
        };
        artifacts.put(&meta, &path).await.expect("put");
        assert_eq!(artifacts.read_all("f1", "patients.zip").await.expect("read"), content);
        assert_eq!(store.job_files("f1").await.expect("files"), vec![meta.clone()]);
        let listed = store.list_jobs_with_files(Some("alice"), 10).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].0.job_id.as_str(), listed[0].1.clone()), ("f1", vec![meta.clone()]));
        assert!(store.list_jobs_with_files(Some("bob"), 10).await.expect("list").is_empty());
        // Writing the same file again (a re-run) replaces it.
        std::fs::write(&path, b"again").expect("write");
        artifacts.put(&JobFile { bytes: 5, ..meta.clone() }, &path).await.expect("put again");
        assert_eq!(artifacts.read_all("f1", "patients.zip").await.expect("read"), b"again");
        assert!(artifacts.read_all("f1", "nope.zip").await.map_or(true, |v| v.is_empty()));
        assert!(store.delete_job("f1", None).await.expect("delete"));
        artifacts.remove_job("f1").await.expect("remove");
        assert!(store.job_files("f1").await.expect("files").is_empty());
    })
    .await;
}
