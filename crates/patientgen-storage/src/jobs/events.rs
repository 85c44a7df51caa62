//! Job events between the instances of a PostgreSQL deployment: a statement
//! that creates, requeues or deletes a job also sends `NOTIFY` (in the same
//! statement, so it is delivered exactly when the change commits), and every
//! instance `LISTEN`s on a connection of its own. Workers of any instance are
//! woken when a job becomes claimable, and cached job views are dropped when a
//! job is deleted. Notifications are not durable: after a reconnection the
//! listener reports [`JobEvent::Reconnected`] so that its user looks again
//! (claims, clears caches) instead of trusting what it may have missed.
//!
//! The payload names the schema (`current_schema()`), so deployments (and
//! tests) that share a database but not a schema ignore each other's events.
//! The embedded SQLite backend has one instance per file and no events.

use crate::{Backend, StorageError, StorageResult, Store};
use sqlx::postgres::{PgListener, PgPoolOptions};
use std::time::Duration;

/// The channel every instance listens on.
pub(crate) const CHANNEL: &str = "patientgen_jobs";

/// The `application_name` of listener connections (followed by the schema
/// once connected), so they can be told apart in `pg_stat_activity`.
pub(crate) const LISTENER_APPLICATION: &str = "patientgen-listener";

/// SQL of the `pg_notify` call for an event on one job row: the payload is
/// schema, event, job id and owner, tab-separated (ids never hold tabs).
macro_rules! notify_job {
    ($event:literal, $job_id:literal, $owner:literal) => {
        concat!(
            "pg_notify('patientgen_jobs', concat_ws(E'\\t', coalesce(current_schema(), ''), '",
            $event,
            "', ",
            $job_id,
            ", coalesce(",
            $owner,
            ", '')))"
        )
    };
}
pub(crate) use notify_job;

/// Something that happened to the jobs of this store, as another instance (or
/// this one) reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// A job was created: workers may claim it, and its owner's job list changed.
    Created {
        /// The job.
        job_id: String,
        /// The key that created it.
        owner: Option<String>,
    },
    /// Running jobs were put back in the queue (an instance shut down).
    Requeued,
    /// A job was deleted (by its owner or by retention).
    Deleted {
        /// The job.
        job_id: String,
        /// The key that owned it.
        owner: Option<String>,
    },
    /// The listener has (re)connected; events before this one may have been
    /// missed: look at the database again.
    Reconnected,
}

impl JobEvent {
    /// Parses a payload of this store's schema (`None`: another schema's, or
    /// not ours).
    fn parse(payload: &str, schema: &str) -> Option<Self> {
        let mut fields = payload.split('\t');
        if fields.next()? != schema {
            return None;
        }
        let event = fields.next()?;
        let job_id = fields.next().unwrap_or("").to_string();
        let owner = fields.next().filter(|o| !o.is_empty()).map(str::to_string);
        match event {
            "created" => Some(JobEvent::Created { job_id, owner }),
            "requeued" => Some(JobEvent::Requeued),
            "deleted" => Some(JobEvent::Deleted { job_id, owner }),
            _ => None,
        }
    }
}

/// A listener for [`JobEvent`]s on a connection of its own (not one of the
/// store's pool, so a small pool keeps all its connections for requests).
pub struct JobEvents {
    listener: PgListener,
    schema: String,
    connected: bool,
}

impl std::fmt::Debug for JobEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobEvents").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects a listener for job events; `None` on the embedded backend,
    /// which has no other instances. The first event is
    /// [`JobEvent::Reconnected`].
    pub async fn job_events(&self) -> StorageResult<Option<JobEvents>> {
        let Backend::Postgres(pool) = self.backend() else { return Ok(None) };
        let options = (*pool.connect_options()).clone().application_name(LISTENER_APPLICATION);
        let own = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        let (schema,): (String,) =
            sqlx::query_as("SELECT coalesce(current_schema(), '')").fetch_one(&own).await?;
        let mut listener = PgListener::connect_with(&own).await?;
        listener.ignore_pool_close_event(true);
        listener.listen(CHANNEL).await?;
        let mut events = JobEvents { listener, schema, connected: false };
        events.name_connection().await?;
        Ok(Some(events))
    }
}

impl JobEvents {
    /// Names the listener's connection after its schema (see
    /// [`LISTENER_APPLICATION`]).
    async fn name_connection(&mut self) -> StorageResult<()> {
        sqlx::query("SELECT set_config('application_name', $1, false)")
            .bind(format!("{LISTENER_APPLICATION} {}", self.schema))
            .execute(&mut self.listener)
            .await?;
        Ok(())
    }

    /// Waits for the next event of this store's schema. After a lost
    /// connection it reconnects (re-subscribing) and reports
    /// [`JobEvent::Reconnected`]; an error means it could not: connect a new
    /// listener.
    pub async fn next(&mut self) -> StorageResult<JobEvent> {
        if !std::mem::replace(&mut self.connected, true) {
            return Ok(JobEvent::Reconnected);
        }
        loop {
            match self.listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(event) = JobEvent::parse(notification.payload(), &self.schema) {
                        return Ok(event);
                    }
                }
                Ok(None) => {
                    self.name_connection().await?;
                    return Ok(JobEvent::Reconnected);
                }
                Err(e) => return Err(StorageError::from(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_other_schemas_are_ignored() {
        let created = JobEvent::parse("s1\tcreated\tj1\tk1", "s1");
        assert_eq!(created, Some(JobEvent::Created { job_id: "j1".into(), owner: Some("k1".into()) }));
        assert_eq!(
            JobEvent::parse("s1\tdeleted\tj1\t", "s1"),
            Some(JobEvent::Deleted { job_id: "j1".into(), owner: None })
        );
        assert_eq!(JobEvent::parse("s1\trequeued\t\t", "s1"), Some(JobEvent::Requeued));
        assert_eq!(JobEvent::parse("s2\tcreated\tj1\tk1", "s1"), None);
        assert_eq!(JobEvent::parse("s1\tunknown\tj1\tk1", "s1"), None);
        assert_eq!(JobEvent::parse("", "s1"), None);
    }
}
