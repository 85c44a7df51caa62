-- A revision number bumped by every change to a key that affects authentication
-- or limits (not by usage counters). Servers poll it to invalidate their key
-- caches, so changes made by the CLI, another instance or plain SQL reach every
-- instance within the poll interval.

CREATE TABLE IF NOT EXISTS api_key_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO api_key_revision (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

CREATE OR REPLACE FUNCTION bump_api_key_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_key_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS api_keys_changed ON api_keys;
CREATE TRIGGER api_keys_changed
    AFTER INSERT OR DELETE OR UPDATE OF key_hash, is_active, is_demo, scopes, max_patients_per_request,
        max_requests_per_minute, max_requests_per_hour, max_requests_per_day, max_patients_per_day,
        expires_at, replaced_by
    ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION bump_api_key_revision();
