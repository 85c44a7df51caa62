//! Integration points of a scaled-out deployment (issue #10, items 5 and 6),
//! over real HTTP with PostgreSQL and Redis: a job created on one instance is
//! taken at once by another instance's worker (LISTEN/NOTIFY, not the poll),
//! also after the listener's connection was cut; key validation of many
//! uncached keys through a pool of two connections under 200 concurrent
//! requests; and exact request and patient limits while jobs are created
//! concurrently and workers run, on one instance and on two.

mod common;

use common::{ADMIN, Db, TestServer, inline, redis_prefix, redis_url};
use patientgen_storage::KeyLimits;
use std::time::Duration;

/// The workers' poll interval in these tests: far longer than any wait below,
/// so a job can only be taken in time if a notification woke the worker.
const NO_POLL: Duration = Duration::from_secs(60);

/// Polls a job on `s` (every 20 ms) until it ends; panics after 30 s — half
/// the poll interval, so that only a wake-up can make it in time.
async fn finished_well_before_the_poll(s: &TestServer, key: &str, job: &str) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let (status, v) = s.json(&format!("/api/v1/jobs/{job}"), key).await;
        assert_eq!(status, 200, "{v}");
        if ["completed", "failed", "cancelled"].contains(&v["status"].as_str().unwrap_or("")) {
            return v;
        }
        assert!(
            start.elapsed() < NO_POLL / 2,
            "job {job} still {} after {:?}: no worker was woken",
            v["status"],
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (at most 5 s) until both instances' listeners are connected.
async fn listeners_connected(store: &patientgen_storage::Store) {
    for _ in 0..250 {
        if patientgen_storage::testing::job_listeners(store).await == 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the instances' job listeners did not (re)connect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_created_on_one_instance_is_taken_at_once_by_another() {
    // The creating instance runs no jobs; the other one only polls once a minute.
    let front = common::start(Db::Postgres, |c| {
        c.workers = 0;
        c.poll_interval = NO_POLL;
    })
    .await;
    let database = front.state.config.database_url.clone();
    let worker = common::start(Db::Postgres, |c| {
        c.database_url = database;
        c.poll_interval = NO_POLL;
        c.instance_id = "the-other-instance".into();
    })
    .await;

    // Both instances listen (the worker has made its first look for work by then).
    let store = &worker.state.store;
    listeners_connected(store).await;
    let job = front.create_job(ADMIN, &inline(200, 7)).await;
    let v = finished_well_before_the_poll(&front, ADMIN, &job).await;
    assert_eq!(v["status"], "completed", "{v}");
    let r = front.get(&format!("/api/v1/downloads/{job}"), Some(ADMIN)).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 200);

    // Cut the listener's connection from the server side (as a PostgreSQL
    // restart would): it reconnects by itself and the next job is taken at
    // once too.
    let ended = patientgen_storage::testing::terminate_job_listeners(store).await;
    assert_eq!(ended, 2, "both instances listen on a connection of their own");
    let job = front.create_job(ADMIN, &inline(200, 8)).await;
    let v = finished_well_before_the_poll(&front, ADMIN, &job).await;
    assert_eq!(v["status"], "completed", "{v}");
    listeners_connected(store).await;
    front.stop().await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_validation_through_a_pool_of_two_under_200_concurrent_requests() {
    let s = common::start(Db::Postgres, |c| {
        c.workers = 0;
        c.pool.max_connections = 2;
    })
    .await;
    let mut keys = Vec::new();
    for _ in 0..50 {
        keys.push(s.key("read", KeyLimits::default()).await);
    }
    // None of the 50 keys has been seen: 200 requests at once, four per key,
    // each a cache miss until one of them has read the key.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let request = s.get("/api/v1/jobs/", Some(&keys[i % keys.len()]));
        tasks.spawn(async move {
            let r = request.send().await.expect("request");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
    }
    let mut ok = 0;
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.expect("task");
        assert_eq!(status, 200, "no pool timeout, no 503: {body}");
        ok += 1;
    }
    assert_eq!(ok, 200);
    // The pool never grew past two and every connection came back: nothing leaked.
    // (The key watcher borrows one briefly every 250 ms: look a few times.)
    let mut stats = s.state.store.pool_stats();
    for _ in 0..100 {
        if stats.1 as u32 == stats.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        stats = s.state.store.pool_stats();
    }
    let (size, idle) = stats;
    assert!(size <= 2, "pool size {size}");
    assert_eq!(idle as u32, size, "every connection is idle again");
    // Every key is cached now: the same requests need no connection at all.
    s.state.store.close().await;
    for key in &keys {
        let r = s.get("/api/v1/health/live", Some(key)).send().await.expect("request");
        assert_eq!(r.status().as_u16(), 200);
    }
    s.stop().await;
}

/// Creates `total` jobs of `patients` patients at once, spread over
/// `servers`; returns how many were accepted (201) and refused (429).
async fn job_burst(servers: &[&TestServer], key: &str, total: usize, patients: u32) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let s = servers[i % servers.len()];
        let request = s.post("/api/v1/generation/", Some(key), &inline(patients, i as u64));
        tasks.spawn(async move {
            let r = request.send().await.expect("request");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
    }
    let (mut accepted, mut refused) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        match done.expect("task") {
            (201, _) => accepted += 1,
            (429, _) => refused += 1,
            (status, body) => panic!("unexpected {status}: {body}"),
        }
    }
    (accepted, refused)
}

/// A key allowed 10 jobs' worth of patients a day and a key allowed 25
/// requests a day (day windows: a burst never straddles their boundary in
/// practice, unlike a minute's), driven by concurrent job creation while the
/// workers generate.
async fn limits_hold_while_workers_run(servers: &[&TestServer]) {
    let patients_key = servers[0]
        .key(
            "generate,read",
            KeyLimits {
                max_patients_per_day: Some(1000),
                max_patients_per_request: 100,
                ..KeyLimits::default()
            },
        )
        .await;
    assert_eq!(job_burst(servers, &patients_key, 40, 100).await, (10, 30), "exactly 10 × 100 patients");
    let requests_key = servers[0]
        .key(
            "generate,read",
            KeyLimits {
                max_requests_per_day: Some(25),
                max_patients_per_request: 100,
                ..KeyLimits::default()
            },
        )
        .await;
    assert_eq!(job_burst(servers, &requests_key, 60, 20).await, (25, 35), "exactly 25 requests");
    // Every accepted job runs to completion.
    let (_, jobs) = servers[0].json("/api/v1/jobs/", ADMIN).await;
    let jobs = jobs.as_array().expect("list").clone();
    assert_eq!(jobs.len(), 35);
    for job in jobs {
        let id = job["job_id"].as_str().expect("id");
        let v = servers[0].wait(ADMIN, id).await;
        assert_eq!(v["status"], "completed", "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_exact_under_concurrent_job_creation_on_one_instance() {
    let s = common::start(Db::Sqlite, |c| c.workers = 2).await;
    limits_hold_while_workers_run(&[&s]).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_exact_under_concurrent_job_creation_on_two_instances() {
    let prefix = redis_prefix();
    let a = common::start(Db::Postgres, |c| {
        c.workers = 1;
        c.redis_url = Some(redis_url().into());
        c.redis_call_timeout = std::time::Duration::from_secs(10);
        c.redis_prefix = prefix.clone();
    })
    .await;
    let database = a.state.config.database_url.clone();
    let b = common::start(Db::Postgres, |c| {
        c.workers = 1;
        c.database_url = database;
        c.redis_url = Some(redis_url().into());
        c.redis_call_timeout = std::time::Duration::from_secs(10);
        c.redis_prefix = prefix.clone();
    })
    .await;
    limits_hold_while_workers_run(&[&a, &b]).await;
    a.stop().await;
    b.stop().await;
}
