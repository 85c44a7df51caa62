-- patientgen schema, PostgreSQL. Column names follow upstream's tables where they overlap.

CREATE TABLE IF NOT EXISTS api_keys (
    id                        TEXT PRIMARY KEY,
    key_hash                  TEXT NOT NULL UNIQUE,
    key_prefix                TEXT NOT NULL,
    name                      TEXT NOT NULL,
    email                     TEXT,
    is_active                 BOOLEAN NOT NULL DEFAULT TRUE,
    is_demo                   BOOLEAN NOT NULL DEFAULT FALSE,
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
    last_used_at              TIMESTAMPTZ,
    last_reset_at             TIMESTAMPTZ NOT NULL,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL,
    expires_at                TIMESTAMPTZ,
    replaced_by               TEXT,
    key_metadata              JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS ix_api_keys_active ON api_keys (is_active);
CREATE INDEX IF NOT EXISTS ix_api_keys_email ON api_keys (email);
CREATE INDEX IF NOT EXISTS ix_api_keys_created_at ON api_keys (created_at);

CREATE TABLE IF NOT EXISTS configuration_templates (
    id                  TEXT PRIMARY KEY,
    owner_key_id        TEXT,
    name                TEXT NOT NULL,
    description         TEXT,
    front_configs       JSONB NOT NULL,
    facility_configs    JSONB NOT NULL,
    injury_distribution JSONB NOT NULL,
    total_patients      INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    parent_config_id    TEXT,
    extra               JSONB NOT NULL DEFAULT '{}',
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_configuration_templates_owner ON configuration_templates (owner_key_id, name);

CREATE TABLE IF NOT EXISTS jobs (
    job_id            TEXT PRIMARY KEY,
    owner_key_id      TEXT,
    status            TEXT NOT NULL,
    config            JSONB NOT NULL,
    scenario          JSONB NOT NULL,
    options           JSONB NOT NULL,
    seed              BIGINT NOT NULL,
    total_patients    INTEGER NOT NULL,
    progress          INTEGER NOT NULL DEFAULT 0,
    phase             TEXT,
    patients_done     BIGINT NOT NULL DEFAULT 0,
    summary           JSONB,
    error             TEXT,
    encryption_key    TEXT,
    generator_version TEXT NOT NULL,
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    attempts          INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    started_at        TIMESTAMPTZ,
    completed_at      TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL
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
    data   BYTEA NOT NULL,
    PRIMARY KEY (job_id, name, seq),
    FOREIGN KEY (job_id, name) REFERENCES job_files (job_id, name) ON DELETE CASCADE
);
