//! Job output files, readable from any instance: database chunks on PostgreSQL,
//! a directory next to the database on the embedded backend.

use crate::{Backend, JobFile, StorageError, StorageResult, Store, on_pool};
use bytes::Bytes;
use futures::Stream;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use tokio::io::AsyncReadExt;

/// Bytes per database chunk.
const CHUNK: usize = 1 << 20;

/// A file's content as a stream of chunks.
pub type FileStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Where job files are kept.
#[derive(Debug, Clone)]
pub enum ArtifactStore {
    /// `job_file_chunks` rows in the database (shared by every instance).
    Database(Store),
    /// Files under a directory (the embedded backend's data directory).
    Directory(Store, PathBuf),
}

impl ArtifactStore {
    /// The natural store for a database: chunks on PostgreSQL, `<data_dir>/artifacts` on SQLite.
    pub fn for_store(store: &Store) -> Self {
        match (store.backend(), store.data_dir()) {
            (Backend::Sqlite(_), Some(dir)) => ArtifactStore::Directory(store.clone(), dir.join("artifacts")),
            _ => ArtifactStore::Database(store.clone()),
        }
    }

    fn store(&self) -> &Store {
        match self {
            ArtifactStore::Database(s) | ArtifactStore::Directory(s, _) => s,
        }
    }

    /// A scratch directory for building a job's files before they are stored.
    pub fn scratch_dir(&self, job_id: &str) -> PathBuf {
        match self {
            ArtifactStore::Directory(_, root) => root.join(".scratch").join(job_id),
            ArtifactStore::Database(_) => std::env::temp_dir().join("patientgen-scratch").join(job_id),
        }
    }

    fn job_dir(root: &Path, job_id: &str) -> PathBuf {
        root.join(job_id)
    }

    /// Stores the file at `source` as `meta.name` of `meta.job_id`, replacing any
    /// previous copy (a job re-run after its instance died writes identical bytes).
    pub async fn put(&self, meta: &JobFile, source: &Path) -> StorageResult<()> {
        let store = self.store();
        let insert = "INSERT INTO job_files (job_id, name, format, bytes, sha256, content_type) VALUES ($1, $2, $3, $4, $5, $6)";
        let remove = "DELETE FROM job_files WHERE job_id = $1 AND name = $2";
        let chunk_sql = "INSERT INTO job_file_chunks (job_id, name, seq, data) VALUES ($1, $2, $3, $4)";
        // Directory: the file moves into place; database: its bytes go in as chunks.
        let mut contents = match self {
            ArtifactStore::Directory(_, root) => {
                let dir = Self::job_dir(root, &meta.job_id);
                tokio::fs::create_dir_all(&dir).await?;
                tokio::fs::rename(source, dir.join(&meta.name)).await?;
                None
            }
            ArtifactStore::Database(_) => Some(tokio::fs::File::open(source).await?),
        };
        on_pool!(store, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(remove).bind(&meta.job_id).bind(&meta.name).execute(&mut *tx).await?;
            sqlx::query(insert)
                .bind(&meta.job_id)
                .bind(&meta.name)
                .bind(&meta.format)
                .bind(meta.bytes)
                .bind(&meta.sha256)
                .bind(&meta.content_type)
                .execute(&mut *tx)
                .await?;
            if let Some(file) = contents.as_mut() {
                let mut seq = 0i32;
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let n = read_full(file, &mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    sqlx::query(chunk_sql)
                        .bind(&meta.job_id)
                        .bind(&meta.name)
                        .bind(seq)
                        .bind(&buf[..n])
                        .execute(&mut *tx)
                        .await?;
                    seq += 1;
                }
            }
            tx.commit().await?;
        });
        if let Some(file) = contents {
            drop(file);
            tokio::fs::remove_file(source).await?;
        }
        Ok(())
    }

    /// Streams a stored file.
    pub async fn open(&self, job_id: &str, name: &str) -> StorageResult<FileStream> {
        match self {
            ArtifactStore::Directory(_, root) => {
                let path = Self::job_dir(root, job_id).join(name);
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|_| StorageError::NotFound(format!("file {name} of job {job_id}")))?;
                Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(file, 64 << 10)))
            }
            ArtifactStore::Database(store) => {
                let store = store.clone();
                let (job_id, name) = (job_id.to_string(), name.to_string());
                // The state is the next chunk's number; `None` after an error ends the stream.
                let stream = futures::stream::unfold(Some(0i32), move |seq| {
                    let (store, job_id, name) = (store.clone(), job_id.clone(), name.clone());
                    async move {
                        let seq = seq?;
                        let sql =
                            "SELECT data FROM job_file_chunks WHERE job_id = $1 AND name = $2 AND seq = $3";
                        let row: Result<Option<(Vec<u8>,)>, sqlx::Error> = on_pool!(store, |pool| {
                            sqlx::query_as(sql).bind(&job_id).bind(&name).bind(seq).fetch_optional(pool).await
                        });
                        match row {
                            Ok(Some((data,))) => Some((Ok(Bytes::from(data)), Some(seq + 1))),
                            Ok(None) => None,
                            Err(e) => Some((Err(std::io::Error::other(e)), None)),
                        }
                    }
                });
                // Fused: a body wrapper (gzip compression) may poll again after the end.
                Ok(Box::pin(futures::StreamExt::fuse(stream)))
            }
        }
    }

    /// Reads a whole stored file into memory (small files and tests).
    pub async fn read_all(&self, job_id: &str, name: &str) -> StorageResult<Vec<u8>> {
        use futures::StreamExt;
        let mut stream = self.open(job_id, name).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    /// Removes a job's files from the directory store (database rows go with the job).
    pub async fn remove_job(&self, job_id: &str) -> StorageResult<()> {
        if let ArtifactStore::Directory(_, root) = self {
            let dir = Self::job_dir(root, job_id);
            match tokio::fs::remove_dir_all(&dir).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = file.read(&mut buf[n..]).await?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}
