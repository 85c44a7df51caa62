-- A revision number bumped by every change to a key that affects authentication
-- or limits (not by usage counters). Servers poll it to invalidate their key
-- caches, so changes made by the CLI or plain SQL reach the server within the
-- poll interval.

CREATE TABLE IF NOT EXISTS api_key_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO api_key_revision (id, revision) VALUES (1, 0);

CREATE TRIGGER IF NOT EXISTS api_keys_inserted AFTER INSERT ON api_keys
BEGIN
    UPDATE api_key_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS api_keys_deleted AFTER DELETE ON api_keys
BEGIN
    UPDATE api_key_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS api_keys_updated
    AFTER UPDATE OF key_hash, is_active, is_demo, scopes, max_patients_per_request,
        max_requests_per_minute, max_requests_per_hour, max_requests_per_day, max_patients_per_day,
        expires_at, replaced_by
    ON api_keys
BEGIN
    UPDATE api_key_revision SET revision = revision + 1 WHERE id = 1;
END;
