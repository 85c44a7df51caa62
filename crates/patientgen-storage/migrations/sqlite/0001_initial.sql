-- patientgen schema, SQLite (timestamps as RFC 3339 text, JSON as text). Column names follow upstream's tables where they overlap.

CREATE TABLE IF NOT EXISTS api_keys (
    id                        TEXT PRIMARY KEY,
    key_hash                  TEXT NOT NULL UNIQUE,
    key_prefix                TEXT NOT NULL,
    name                      TEXT NOT NULL,
    email                     TEXT,
    is_active                 INTEGER NOT NULL DEFAULT 1,
    is_demo                   INTEGER NOT NULL DEFAULT 0,
    scopes                    TEXT NOT NULL DEFAULT 'generate,read',
    max_patients_per_request  INTEGER NOT NULL DEFAULT 1000,
    max_requests_per_minute   INTEGER NOT NULL DEFAULT 60,
    max_requests_per_hour     INTEGER NOT NULL DEFAULT 1000,
    max_requests_per_day      INTEGER,
    max_patients_per_day      INTEGER,
    total_requests            BIGINT NOT NULL DEFAULT 0,
    total_patients_generated  BIGINT NOT NULL DEFAULT 0,
    daily_requests            BIGINT NOT NULL DEFAULT 0,
    daily_patients            BIGINT NOT NULL DEFAULT 0,
    last_used_at              TEXT,
    last_reset_at             TEXT NOT NULL,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    expires_at                TEXT,
    replaced_by               TEXT,
    key_metadata              TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS ix_api_keys_active ON api_keys (is_active);
CREATE INDEX IF NOT EXISTS ix_api_keys_email ON api_keys (email);
CREATE INDEX IF NOT EXISTS ix_api_keys_created_at ON api_keys (created_at);

CREATE TABLE IF NOT EXISTS configuration_templates (
    id                  TEXT PRIMARY KEY,
    owner_key_id        TEXT,
    name                TEXT NOT NULL,
    description         TEXT,
    front_configs       TEXT NOT NULL,
    facility_configs    TEXT NOT NULL,
    injury_distribution TEXT NOT NULL,
    total_patients      INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    parent_config_id    TEXT,
    extra               TEXT NOT NULL DEFAULT '{}',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_configuration_templates_owner ON configuration_templates (owner_key_id, name);

CREATE TABLE IF NOT EXISTS jobs (
    job_id            TEXT PRIMARY KEY,
    owner_key_id      TEXT,
    status            TEXT NOT NULL,
    config            TEXT NOT NULL,
    scenario          TEXT NOT NULL,
    options           TEXT NOT NULL,
    seed              BIGINT NOT NULL,
    total_patients    INTEGER NOT NULL,
    progress          INTEGER NOT NULL DEFAULT 0,
    phase             TEXT,
    patients_done     BIGINT NOT NULL DEFAULT 0,
    summary           TEXT,
    error             TEXT,
    encryption_key    TEXT,
    generator_version TEXT NOT NULL,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    attempts          INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    created_at        TEXT NOT NULL,
    started_at        TEXT,
    completed_at      TEXT,
    updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_jobs_claim ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS ix_jobs_owner ON jobs (owner_key_id, created_at);

CREATE TABLE IF NOT EXISTS job_files (
    job_id       TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    format       TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE IF NOT EXISTS job_file_chunks (
    job_id TEXT NOT NULL,
    name   TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (job_id, name, seq),
    FOREIGN KEY (job_id, name) REFERENCES job_files (job_id, name) ON DELETE CASCADE
);
