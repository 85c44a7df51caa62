//! Request and response bodies (upstream's field names), with OpenAPI schemas.

use patientgen_core::scenario::{FacilityConfig, FrontConfig, NationalityShare};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The error envelope every error response uses.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    /// Short name of the status, e.g. `Validation Error`.
    pub error: String,
    /// What went wrong, as text; for 422 it names the field (`total_patients: …`).
    #[schema(value_type = String)]
    pub detail: Value,
    /// UTC time, ISO 8601 with `Z`.
    pub timestamp: String,
    /// The request id (also in the `X-Request-Id` response header).
    pub request_id: String,
}

/// The envelope of `GET /api/v1/health/database` when the database is down:
/// its `detail` is an object (upstream's shape).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthErrorResponse {
    /// `Service Unavailable`.
    pub error: String,
    /// `{"status": "unhealthy", "error": "<what failed>"}`.
    #[schema(value_type = Object)]
    pub detail: Value,
    /// UTC time, ISO 8601 with `Z`.
    pub timestamp: String,
    /// The request id (also in the `X-Request-Id` response header).
    pub request_id: String,
}

/// `POST /api/v1/generation/`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GenerationRequest {
    /// A saved configuration template (exactly one of this and `configuration`).
    #[serde(default)]
    pub configuration_id: Option<String>,
    /// An inline scenario configuration (upstream's configuration object, plus `seed`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub configuration: Option<Value>,
    /// Overrides the configuration's patient count (1 to this instance's ceiling).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub total_patients: Option<i64>,
    /// Formats: `json`, `ndjson`, `csv`, `xml`, `fhir` (default `["json"]`).
    #[serde(default)]
    #[schema(min_items = 1)]
    pub output_formats: Option<Vec<String>>,
    /// Gzip each output file.
    #[serde(default)]
    pub use_compression: bool,
    /// Encrypt each output file (AES-256-GCM); needs `encryption_password`.
    #[serde(default)]
    pub use_encryption: bool,
    /// Password (at least 8 characters, also when not encrypting, as upstream);
    /// never stored or returned.
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 8)]
    pub encryption_password: Option<secrecy::SecretString>,
    /// `low`, `normal` or `high` (recorded).
    #[serde(default)]
    pub priority: Option<String>,
}

/// 201 response of `POST /api/v1/generation/`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GenerationResponse {
    /// The new job's id: poll `GET /api/v1/jobs/{job_id}`.
    pub job_id: String,
    /// Always `pending` (a worker picks it up).
    pub status: String,
    /// Human-readable confirmation.
    pub message: String,
    /// Rough seconds until completion.
    pub estimated_duration: u64,
    /// What was accepted but ignored, each naming the field (e.g. a facility
    /// whose role cannot be told). Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Progress of a running job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressDetails {
    /// Current phase.
    pub current_step: String,
    /// Phases in all.
    pub total_steps: u32,
    /// Phases done.
    pub completed_steps: u32,
    /// Patients generated so far.
    pub patients_generated: i64,
    /// Seconds left (estimate).
    pub estimated_remaining_time: Option<f64>,
}

/// A job file with its size and checksum.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobFileInfo {
    /// File name.
    pub name: String,
    /// `zip`, or `json` for the patients kept for `?format=json`.
    pub format: String,
    /// Size in bytes.
    pub bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// A job (upstream's `JobResponse`, plus `files`, `started_at`, `attempts`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobResponse {
    /// The job's id (a UUID).
    pub job_id: String,
    /// `pending`, `running`, `completed`, `failed`, `cancelled`.
    pub status: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// 0–100.
    pub progress: i32,
    /// The request (passwords removed).
    #[schema(value_type = Object)]
    pub config: Value,
    /// When it ended (RFC 3339), if it has.
    pub completed_at: Option<String>,
    /// Error text.
    pub error: Option<String>,
    /// Names of the output files.
    pub output_files: Vec<String>,
    /// Progress details while running.
    pub progress_details: Option<ProgressDetails>,
    /// Counts by outcome, triage, injury type, nationality and front, once completed.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// Output files with sizes and checksums.
    pub files: Vec<JobFileInfo>,
    /// First started.
    pub started_at: Option<String>,
    /// Times a worker claimed it.
    pub attempts: i32,
}

/// `GET /api/v1/jobs/{id}/results`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResultsPage {
    /// The job the patients belong to.
    pub job_id: String,
    /// Patients in the job.
    pub total: u64,
    /// Page (from 1).
    pub page: u64,
    /// Page size.
    pub per_page: u64,
    /// Pages of `per_page` patients.
    pub total_pages: u64,
    /// Patients of the page (the record of `patients.json`).
    #[schema(value_type = Vec<Object>)]
    pub patients: Vec<Value>,
}

/// Body of a successful `DELETE` (upstream's shape).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeleteResponse {
    /// Always true.
    pub success: bool,
    /// Human-readable confirmation.
    pub message: String,
    /// The id of what was deleted.
    pub deleted_id: String,
    /// When it was deleted (RFC 3339, UTC).
    pub timestamp: String,
}

/// `ConfigurationTemplateCreate`: body of POST/PUT and `validate/`. Other
/// scenario keys (warfare_types, tempo, seed…) are accepted and kept.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationTemplate {
    /// Scenario name (at most 255 characters).
    #[schema(max_length = 255)]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Fronts with their casualty shares and nationalities.
    pub front_configs: Vec<FrontConfig>,
    /// Facilities of the evacuation chain with their death and return-to-duty rates.
    pub facility_configs: Vec<FacilityConfig>,
    /// Patients (1 to this instance's ceiling).
    #[schema(minimum = 1)]
    pub total_patients: i64,
    /// Injury mix.
    pub injury_distribution: BTreeMap<String, f64>,
    /// Version (≥ 1).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub version: Option<i64>,
    /// Parent template.
    #[serde(default)]
    pub parent_config_id: Option<String>,
    /// Other scenario settings.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, Value>,
}

/// A stored template (`ConfigurationTemplateDB`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationResponse {
    /// Scenario name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Fronts as sent.
    #[schema(value_type = Vec<Object>)]
    pub front_configs: Value,
    /// Facilities as sent.
    #[schema(value_type = Vec<Object>)]
    pub facility_configs: Value,
    /// Patients a job from this template generates unless overridden.
    pub total_patients: i32,
    /// Injury mix.
    #[schema(value_type = Object)]
    pub injury_distribution: Value,
    /// The client's version number (1 or more).
    pub version: i32,
    /// The template this one was derived from.
    pub parent_config_id: Option<String>,
    /// The template's id (a UUID).
    pub id: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was last replaced (RFC 3339).
    pub updated_at: String,
    /// What was accepted but ignored, each naming the field (e.g. a facility
    /// whose role cannot be told). Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Other scenario settings.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, Value>,
}

/// `POST /api/v1/configurations/validate/`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ValidationResult {
    /// No errors.
    pub valid: bool,
    /// Each problem, naming the field.
    pub errors: Vec<String>,
    /// What was accepted but ignored, each naming the field (e.g. a facility
    /// whose role cannot be told). Absent when there is nothing to say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A nation patients can come from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Nationality {
    /// ISO 3166-1 alpha-3 (configurations may give the alpha-2 code instead).
    pub code: String,
    /// English name.
    pub name: String,
}

/// A role of the evacuation chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FacilityType {
    /// `POI`, `R1`…`R4`.
    pub id: String,
    /// Human-readable name, e.g. `Role 1`.
    pub name: String,
}

/// Upstream's static front.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaticFront {
    /// Front name.
    pub name: String,
    /// Share 0–1.
    pub ratio: f64,
    /// Nationalities of its casualties, percentages summing to 100.
    pub nations: Vec<NationalityShare>,
}

/// `GET /api/v1/config/frontend`: never a secret (upstream leaked its master key here).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FrontendConfig {
    /// The public demo key when enabled, else null.
    #[serde(rename = "apiKey")]
    pub api_key: Option<String>,
    /// Shown in the page title.
    #[serde(rename = "appName")]
    pub app_name: String,
    /// The patientgen version serving the page.
    pub version: String,
    /// Always false.
    pub debug: bool,
}

/// A preset as listed (without its full scenario).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresetSummary {
    /// Its id, e.g. `nato_article_5`.
    pub id: String,
    /// Shown in listings.
    pub name: String,
    /// One or two sentences for listings.
    pub description: String,
    /// Category id.
    pub category: String,
    /// Difficulty id.
    pub difficulty: String,
    /// Patients it generates unless overridden.
    pub total_patients: u32,
    /// Days of fighting.
    pub duration_days: u32,
}

/// `GET /api/v1/presets`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresetList {
    /// The presets matching the filter, in display order.
    pub presets: Vec<PresetSummary>,
    /// Categories: id → {name, icon}.
    #[schema(value_type = Object)]
    pub categories: Value,
    /// Difficulty levels: id → {name, color}.
    #[schema(value_type = Object)]
    pub difficulty_levels: Value,
    /// Number of presets.
    pub total_count: usize,
}

/// `GET /api/v1/presets/{id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresetDetail {
    /// The preset as stored, without its temporal settings.
    #[schema(value_type = Object)]
    pub preset: Value,
    /// A configuration ready for `POST /api/v1/generation/`.
    #[schema(value_type = Object)]
    pub generation_config: Value,
}

/// A category with its preset count.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryEntry {
    /// Category id, as in a preset's `category`.
    pub id: String,
    /// Shown to users.
    pub name: String,
    /// An icon name for the category, e.g. `military`.
    pub icon: Option<String>,
    /// Presets in it.
    pub preset_count: usize,
}

/// `GET /api/v1/presets/categories/list`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryList {
    /// Every category, in id order.
    pub categories: Vec<CategoryEntry>,
    /// Number of categories.
    pub total_categories: usize,
}

/// Data for a chart (upstream's `VisualizationDataResponse`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisualizationResponse {
    /// The chart's data; its shape depends on the endpoint.
    #[schema(value_type = Object)]
    pub data: Value,
    /// Where it came from.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// When it was computed (RFC 3339, UTC).
    pub generated_at: String,
    /// Always null.
    pub cache_expires_at: Option<String>,
}

/// `POST /api/v1/streaming/generate` body: a configuration, or `{configuration: …}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct StreamRequest(pub Value);

/// Simple status bodies (`/health`, `/ready`, liveness, readiness).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusBody {
    /// `healthy`, `degraded` or `unhealthy` (`/health`), `ready` or `not_ready`, `alive`.
    pub status: String,
    /// Checked services.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub services: Option<Value>,
    /// Error text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /api/v1/health`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthReport {
    /// `healthy`, `degraded` (rate limits not shared: Redis unreachable) or `unhealthy`.
    pub status: String,
    /// When the checks ran (RFC 3339, UTC).
    pub timestamp: String,
    /// Individual checks.
    #[schema(value_type = Object)]
    pub checks: Value,
}
