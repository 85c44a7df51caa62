//! The `jobs` and `job_files` tables as a durable queue with leases.

use super::events::notify_job;
use super::{Claimed, JobFile, JobRecord, JobStatus, JobSummary, NewJob, Progress};
use crate::{Backend, StorageResult, Store, on_pool};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

macro_rules! job_columns {
    () => {
        "job_id, owner_key_id, status, config, scenario, options, seed, total_patients, progress, \
    phase, patients_done, summary, error, encryption_key, generator_version, cancel_requested, attempts, lease_owner, \
    lease_expires_at, created_at, started_at, completed_at, updated_at"
    };
}

impl Store {
    /// Inserts a pending job.
    /// On PostgreSQL the same statement notifies every instance
    /// ([`JobEvent::Created`](super::JobEvent)).
    pub async fn insert_job(&self, job: &NewJob, now: DateTime<Utc>) -> StorageResult<JobRecord> {
        macro_rules! insert {
            ($notify:expr) => {
                concat!(
                    "INSERT INTO jobs (job_id, owner_key_id, status, config, scenario, options, seed, total_patients, \
                     encryption_key, generator_version, created_at, updated_at) \
                     VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ",
                    job_columns!(),
                    $notify
                )
            };
        }
        let sql = match self.backend() {
            Backend::Postgres(_) => insert!(concat!(", ", notify_job!("created", "job_id", "owner_key_id"))),
            Backend::Sqlite(_) => insert!(""),
        };
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, JobRecord>(sql)
                .bind(&job.job_id)
                .bind(&job.owner_key_id)
                .bind(Json(&job.config))
                .bind(Json(&job.scenario))
                .bind(Json(&job.options))
                .bind(job.seed as i64)
                .bind(job.total_patients)
                .bind(&job.encryption_key)
                .bind(&job.generator_version)
                .bind(now)
                .fetch_one(pool)
                .await?
        }))
    }

    /// A job visible to `owner` (`None`: any owner).
    pub async fn get_job(&self, id: &str, owner: Option<&str>) -> StorageResult<Option<JobRecord>> {
        let sql = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE job_id = $1 AND ($2 IS NULL OR owner_key_id = $2)"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, JobRecord>(sql)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await?))
    }

    /// Jobs visible to `owner`, oldest first (upstream's insertion order).
    pub async fn list_jobs(&self, owner: Option<&str>, limit: i64) -> StorageResult<Vec<JobRecord>> {
        let sql = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE ($1 IS NULL OR owner_key_id = $1) ORDER BY created_at, job_id LIMIT $2"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, JobRecord>(sql)
            .bind(owner)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// The most recent completed job visible to `owner`.
    pub async fn latest_completed_job(&self, owner: Option<&str>) -> StorageResult<Option<JobRecord>> {
        let sql = concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE status = 'completed' AND ($1 IS NULL OR owner_key_id = $1) \
             ORDER BY completed_at DESC, job_id LIMIT 1"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, JobRecord>(sql)
            .bind(owner)
            .fetch_optional(pool)
            .await?))
    }

    /// Count of completed jobs visible to `owner`.
    pub async fn count_completed_jobs(&self, owner: Option<&str>) -> StorageResult<i64> {
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM jobs WHERE status = 'completed' AND ($1 IS NULL OR owner_key_id = $1)";
        let row: (i64,) = on_pool!(self, |pool| sqlx::query_as(sql).bind(owner).fetch_one(pool).await?);
        Ok(row.0)
    }

    /// Jobs per status (for metrics).
    pub async fn job_counts(&self) -> StorageResult<Vec<(String, i64)>> {
        let sql = "SELECT status, CAST(COUNT(*) AS BIGINT) FROM jobs GROUP BY status ORDER BY status";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// Claims the oldest claimable job for `worker`: a pending job, or a running
    /// one whose lease expired. Atomic across instances.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<Claimed>> {
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
                     started_at = COALESCE(started_at, $3), attempts = attempts + 1, progress = 0, patients_done = 0, \
                     phase = 'claimed', updated_at = $3 WHERE job_id = (SELECT job_id FROM jobs \
                     WHERE (status = 'pending' OR (status = 'running' AND lease_expires_at < $3)) \
                     AND cancel_requested = FALSE ORDER BY created_at, job_id LIMIT 1",
                    $lock,
                    ") RETURNING ",
                    job_columns!()
                )
            };
        }
        let sql = match self.backend() {
            Backend::Postgres(_) => claim!(" FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite(_) => claim!(""),
        };
        let job = on_pool!(self, |pool| {
            sqlx::query_as::<_, JobRecord>(sql)
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .fetch_optional(pool)
                .await?
        });
        Ok(job.map(|job| Claimed { job }))
    }

    /// Renews the lease and records progress; returns `Some(cancel_requested)`
    /// while `worker` still holds the job, `None` once it lost it.
    pub async fn heartbeat_job(
        &self,
        id: &str,
        worker: &str,
        lease_until: DateTime<Utc>,
        progress: &Progress<'_>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<bool>> {
        let sql = "UPDATE jobs SET lease_expires_at = $1, progress = $2, phase = $3, patients_done = $4, updated_at = $5 \
                   WHERE job_id = $6 AND lease_owner = $7 AND status = 'running' RETURNING cancel_requested";
        let row: Option<(bool,)> = on_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(lease_until)
                .bind(progress.progress)
                .bind(progress.phase)
                .bind(progress.patients_done)
                .bind(now)
                .bind(id)
                .bind(worker)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Marks a job completed with its summary, if `worker` holds it (its files
    /// are stored beforehand through the artifact store).
    pub async fn complete_job(
        &self,
        id: &str,
        worker: &str,
        summary: &JobSummary,
        patients: i64,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let sql = "UPDATE jobs SET status = 'completed', progress = 100, phase = 'completed', patients_done = $1, \
                   summary = $2, encryption_key = NULL, lease_owner = NULL, lease_expires_at = NULL, completed_at = $3, \
                   updated_at = $3 WHERE job_id = $4 AND lease_owner = $5 AND status = 'running'";
        let n = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(patients)
                .bind(Json(summary))
                .bind(now)
                .bind(id)
                .bind(worker)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Ends a job held by `worker` as failed or cancelled.
    pub async fn finish_job(
        &self,
        id: &str,
        worker: &str,
        status: JobStatus,
        error: &str,
        now: DateTime<Utc>,
    ) -> StorageResult<bool> {
        let sql = "UPDATE jobs SET status = $1, error = $2, phase = $1, encryption_key = NULL, lease_owner = NULL, \
                   lease_expires_at = NULL, completed_at = $3, updated_at = $3 WHERE job_id = $4 AND lease_owner = $5 AND status = 'running'";
        let n = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(status.as_str())
                .bind(error)
                .bind(now)
                .bind(id)
                .bind(worker)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Requests cancellation: a pending job is cancelled at once, and so is a
    /// running one whose lease has expired (its instance died: nobody would
    /// ever read the flag); a running one with a live lease is flagged for its
    /// worker. Returns the job afterwards, or `None` if not visible.
    pub async fn cancel_job(
        &self,
        id: &str,
        owner: Option<&str>,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<JobRecord>> {
        let pending = "UPDATE jobs SET status = 'cancelled', cancel_requested = TRUE, error = 'Job cancelled by user', \
                       phase = 'cancelled', encryption_key = NULL, completed_at = $1, updated_at = $1 \
                       WHERE job_id = $2 AND status = 'pending' AND ($3 IS NULL OR owner_key_id = $3)";
        let abandoned = "UPDATE jobs SET status = 'cancelled', cancel_requested = TRUE, error = 'Job cancelled by user', \
                         phase = 'cancelled', encryption_key = NULL, lease_owner = NULL, lease_expires_at = NULL, \
                         completed_at = $1, updated_at = $1 WHERE job_id = $2 AND status = 'running' \
                         AND lease_expires_at < $1 AND ($3 IS NULL OR owner_key_id = $3)";
        let running = "UPDATE jobs SET cancel_requested = TRUE, updated_at = $1 \
                       WHERE job_id = $2 AND status = 'running' AND ($3 IS NULL OR owner_key_id = $3)";
        on_pool!(self, |pool| {
            sqlx::query(pending).bind(now).bind(id).bind(owner).execute(pool).await?;
            sqlx::query(abandoned).bind(now).bind(id).bind(owner).execute(pool).await?;
            sqlx::query(running).bind(now).bind(id).bind(owner).execute(pool).await?;
        });
        self.get_job(id, owner).await
    }

    /// Ends as cancelled every running job that was asked to cancel and whose
    /// lease has expired: its instance died before it could stop it, and claims
    /// never take a job that is to be cancelled. Returns how many.
    pub async fn finish_abandoned_cancels(&self, now: DateTime<Utc>) -> StorageResult<u64> {
        let sql = "UPDATE jobs SET status = 'cancelled', error = 'Job cancelled by user', phase = 'cancelled', \
                   encryption_key = NULL, lease_owner = NULL, lease_expires_at = NULL, completed_at = $1, updated_at = $1 \
                   WHERE status = 'running' AND cancel_requested = TRUE AND lease_expires_at < $1";
        Ok(on_pool!(self, |pool| sqlx::query(sql).bind(now).execute(pool).await?.rows_affected()))
    }

    /// Puts the jobs `worker` holds back in the queue (graceful shutdown).
    /// On PostgreSQL every instance is told ([`JobEvent::Requeued`](super::JobEvent)).
    pub async fn requeue_jobs_of(&self, worker: &str, now: DateTime<Utc>) -> StorageResult<u64> {
        macro_rules! requeue {
            ($notify:expr) => {
                concat!(
                    "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, phase = 'requeued', \
                     progress = 0, patients_done = 0, updated_at = $1 WHERE lease_owner = $2 AND status = 'running'",
                    $notify
                )
            };
        }
        let sql = match self.backend() {
            Backend::Postgres(_) => {
                requeue!(concat!(" RETURNING ", notify_job!("requeued", "job_id", "owner_key_id")))
            }
            Backend::Sqlite(_) => requeue!(""),
        };
        Ok(on_pool!(self, |pool| sqlx::query(sql)
            .bind(now)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()))
    }

    /// Deletes a job (its files go with it); returns whether it was visible.
    /// On PostgreSQL every instance is told ([`JobEvent::Deleted`](super::JobEvent)).
    pub async fn delete_job(&self, id: &str, owner: Option<&str>) -> StorageResult<bool> {
        macro_rules! delete {
            ($notify:expr) => {
                concat!("DELETE FROM jobs WHERE job_id = $1 AND ($2 IS NULL OR owner_key_id = $2)", $notify)
            };
        }
        let sql = match self.backend() {
            Backend::Postgres(_) => {
                delete!(concat!(" RETURNING ", notify_job!("deleted", "job_id", "owner_key_id")))
            }
            Backend::Sqlite(_) => delete!(""),
        };
        let n =
            on_pool!(self, |pool| sqlx::query(sql).bind(id).bind(owner).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }

    /// Ids of finished jobs last changed before `before` (retention).
    pub async fn expired_jobs(&self, before: DateTime<Utc>) -> StorageResult<Vec<String>> {
        let sql = "SELECT job_id FROM jobs WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at < $1 ORDER BY updated_at";
        let rows: Vec<(String,)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(before).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// [`list_jobs`](Self::list_jobs) with each job's files: two queries,
    /// however many jobs.
    pub async fn list_jobs_with_files(
        &self,
        owner: Option<&str>,
        limit: i64,
    ) -> StorageResult<Vec<(JobRecord, Vec<JobFile>)>> {
        let jobs = self.list_jobs(owner, limit).await?;
        let sql = "SELECT job_id, name, format, bytes, sha256, content_type FROM job_files WHERE job_id IN \
                   (SELECT job_id FROM jobs WHERE ($1 IS NULL OR owner_key_id = $1) ORDER BY created_at, job_id LIMIT $2) \
                   ORDER BY job_id, name";
        let files: Vec<JobFile> = on_pool!(self, |pool| sqlx::query_as::<_, JobFile>(sql)
            .bind(owner)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        let mut by_job: std::collections::HashMap<String, Vec<JobFile>> = std::collections::HashMap::new();
        for file in files {
            by_job.entry(file.job_id.clone()).or_default().push(file);
        }
        Ok(jobs
            .into_iter()
            .map(|job| {
                let files = by_job.remove(&job.job_id).unwrap_or_default();
                (job, files)
            })
            .collect())
    }

    /// Output files of a job.
    pub async fn job_files(&self, id: &str) -> StorageResult<Vec<JobFile>> {
        let sql = "SELECT job_id, name, format, bytes, sha256, content_type FROM job_files WHERE job_id = $1 ORDER BY name";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, JobFile>(sql).bind(id).fetch_all(pool).await?))
    }
}
