//! What the service's metrics need from the store: the time every query waits
//! for a pooled connection (`db_pool_acquire_seconds`) and the oldest pending
//! job.
//!
//! Every query of this crate runs through [`on_pool!`](crate::on_pool), which
//! hands its body a [`Timed`] pool: an [`Executor`] that acquires its
//! connection itself, timing the wait, and then runs the query on it exactly
//! as `&Pool` does.

use crate::{StorageResult, Store, on_pool};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Describe, Either, Execute, Executor, Pool, SqlStr, Transaction};
use std::time::Instant;

/// A pool whose connection acquisitions are timed.
#[derive(Debug)]
pub(crate) struct Timed<'a, DB: Database>(pub &'a Pool<DB>);

/// Acquires a connection, recording the wait in `db_pool_acquire_seconds`
/// (time-outs included).
async fn acquire<DB: Database>(pool: &Pool<DB>) -> Result<PoolConnection<DB>, sqlx::Error> {
    let start = Instant::now();
    let conn = pool.acquire().await;
    metrics::histogram!("db_pool_acquire_seconds").record(start.elapsed().as_secs_f64());
    conn
}

impl<DB: Database> Timed<'_, DB> {
    /// Starts a transaction on a (timed) pooled connection.
    pub async fn begin(&self) -> Result<Transaction<'static, DB>, sqlx::Error> {
        Transaction::begin(acquire(self.0).await?, None).await
    }
}

impl<'p, DB: Database> Executor<'p> for &'_ Timed<'_, DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        E: 'q + Execute<'q, DB>,
    {
        let pool = self.0.clone();
        // The connection must outlive the rows' stream, so the results are
        // collected before they are handed on (this crate reads no result set
        // that does not fit in memory: files are read chunk by chunk).
        futures::stream::once(async move {
            let mut conn = acquire(&pool).await?;
            conn.fetch_many(query).try_collect::<Vec<_>>().await
        })
        .map_ok(|items| futures::stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        E: 'q + Execute<'q, DB>,
    {
        let pool = self.0.clone();
        Box::pin(async move { acquire(&pool).await?.fetch_optional(query).await })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.0.clone();
        Box::pin(async move { acquire(&pool).await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<DB>, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.0.clone();
        Box::pin(async move { acquire(&pool).await?.describe(sql).await })
    }
}

impl Store {
    /// When the oldest pending job was created (`None`: none is pending).
    pub async fn oldest_pending_job_at(&self) -> StorageResult<Option<DateTime<Utc>>> {
        let sql = "SELECT created_at FROM jobs WHERE status = 'pending' ORDER BY created_at LIMIT 1";
        let row: Option<(DateTime<Utc>,)> =
            on_pool!(self, |pool| sqlx::query_as(sql).fetch_optional(pool).await?);
        Ok(row.map(|r| r.0))
    }
}
