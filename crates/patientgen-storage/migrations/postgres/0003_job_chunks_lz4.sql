-- Job file chunks are compressed with LZ4 rather than PostgreSQL's default
-- pglz where the server offers it (PostgreSQL 14+ built with lz4, as Debian's
-- and the official images are): storing a 1,000-patient job's 2.5 MB of JSON
-- took ~27 ms of server CPU with pglz and ~6 ms with LZ4 (docs/BENCHMARKS.md,
-- "Hot paths of #10.6"). Chunks already stored keep their compression; both
-- read back the same. Elsewhere the column keeps the server's default.
-- The change locks the table: during a rolling deploy it waits at most 5 s for
-- uploads in flight on other instances, then fails (the instance retries when
-- restarted) rather than holding every chunk read and write behind it.
SET LOCAL lock_timeout = '5s';
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000
       AND EXISTS (SELECT 1 FROM pg_settings
                   WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        EXECUTE 'ALTER TABLE job_file_chunks ALTER COLUMN data SET COMPRESSION lz4';
    END IF;
END
$$;
