//! A generation request as the service works with it: the body of
//! `POST /api/v1/generation/` checked once, field by field in upstream's
//! order, into a [`JobRequest`], which then makes the job to store.

use crate::error::ApiError;
use crate::models::GenerationRequest;
use crate::scenario_source::ScenarioSource;
use patientgen_core::{Scenario, ScenarioConfig};
use patientgen_output::Format;
use patientgen_storage::{JobOptions, NewJob, Priority};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

/// A checked generation request. Not `Debug`: it holds the password.
pub struct JobRequest {
    /// Where the scenario comes from.
    pub source: ScenarioSource,
    /// The patient count overriding the configuration's (1 to the ceiling).
    pub total_patients: Option<i64>,
    /// The formats, sorted and without repeats (at least one).
    pub formats: Vec<Format>,
    /// Gzip each file.
    pub use_compression: bool,
    /// The encryption password (8 characters or more) when encryption was
    /// asked for; never stored or echoed.
    pub password: Option<SecretString>,
    /// The client's priority.
    pub priority: Priority,
}

impl TryFrom<(GenerationRequest, u32)> for JobRequest {
    type Error = ApiError;

    /// Checks a request body against the instance's patient ceiling; the
    /// 422 names the first bad field.
    fn try_from((req, max_patients): (GenerationRequest, u32)) -> Result<Self, ApiError> {
        let source = source(req.configuration_id, req.configuration)?;
        let max = i64::from(max_patients);
        match req.total_patients {
            Some(n) if n < 1 => {
                return Err(ApiError::unprocessable(
                    "total_patients: Input should be greater than or equal to 1",
                ));
            }
            Some(n) if n > max => {
                return Err(ApiError::unprocessable(format!(
                    "total_patients: Input should be less than or equal to {max}"
                )));
            }
            _ => {}
        }
        Ok(Self {
            source,
            total_patients: req.total_patients,
            formats: formats(req.output_formats)?,
            use_compression: req.use_compression,
            priority: priority(req.priority)?,
            password: password(req.use_encryption, req.encryption_password)?,
        })
    }
}

/// Exactly one of a non-empty `configuration_id` and a `configuration`
/// object (an empty object counts as absent).
fn source(id: Option<String>, configuration: Option<Value>) -> Result<ScenarioSource, ApiError> {
    let configuration = match configuration {
        Some(Value::Object(map)) if map.is_empty() => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err(ApiError::unprocessable("configuration: Input should be a valid dictionary")),
        None => None,
    };
    match (id, configuration) {
        (Some(id), _) if id.is_empty() => {
            Err(ApiError::unprocessable("configuration_id: String should have at least 1 character"))
        }
        (Some(_), Some(_)) => {
            Err(ApiError::unprocessable("Provide either configuration_id or configuration, not both"))
        }
        (None, None) => {
            Err(ApiError::unprocessable("Either configuration_id or configuration must be provided"))
        }
        (Some(id), None) => Ok(ScenarioSource::Saved(id)),
        (None, Some(map)) => Ok(ScenarioSource::Inline(map)),
    }
}

/// Exact wire names only (the CLI's aliases such as `jsonl` are not
/// accepted here); default `["json"]`.
fn formats(names: Option<Vec<String>>) -> Result<Vec<Format>, ApiError> {
    let names = names.unwrap_or_else(|| vec!["json".into()]);
    if names.is_empty() {
        return Err(ApiError::unprocessable(
            "output_formats: List should have at least 1 item after validation, not 0",
        ));
    }
    let mut formats = Vec::with_capacity(names.len());
    for name in &names {
        let Some(format) = Format::ALL.into_iter().find(|known| known.as_str() == name) else {
            let valid: Vec<&str> = Format::ALL.iter().map(|k| k.as_str()).collect();
            return Err(ApiError::unprocessable(format!(
                "output_formats: Invalid output format: {name}. Valid formats: {valid:?}"
            )));
        };
        formats.push(format);
    }
    formats.sort();
    formats.dedup();
    Ok(formats)
}

fn priority(name: Option<String>) -> Result<Priority, ApiError> {
    let name = name.unwrap_or_else(|| "normal".into());
    Priority::parse(&name).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "priority: Invalid priority: {name}. Valid priorities: ['low', 'normal', 'high']"
        ))
    })
}

/// A password given must have 8 characters or more (as upstream checks it),
/// and is dropped when not encrypting.
fn password(use_encryption: bool, password: Option<SecretString>) -> Result<Option<SecretString>, ApiError> {
    if password.as_ref().is_some_and(|p| p.expose_secret().chars().count() < 8) {
        return Err(ApiError::unprocessable("encryption_password: String should have at least 8 characters"));
    }
    match password {
        _ if !use_encryption => Ok(None),
        None => Err(ApiError::unprocessable("encryption_password: required when use_encryption is true")),
        Some(p) => Ok(Some(p)),
    }
}

impl JobRequest {
    /// The request as echoed back in the job's `config`: the inline
    /// configuration flat (or the template id), plus the options and the seed
    /// — never the password.
    fn echo(&self, seed: u64) -> Value {
        let mut echo: Map<String, Value> = match &self.source {
            ScenarioSource::Inline(map) => map.clone(),
            ScenarioSource::Saved(id) => {
                Map::from_iter([("configuration_id".to_string(), Value::from(id.clone()))])
            }
        };
        if let Some(n) = self.total_patients {
            echo.insert("total_patients".into(), Value::from(n));
        }
        let names: Vec<Value> = self.formats.iter().map(|f| Value::from(f.as_str())).collect();
        echo.insert("output_formats".into(), Value::Array(names));
        echo.insert("use_compression".into(), Value::from(self.use_compression));
        echo.insert("use_encryption".into(), Value::from(self.password.is_some()));
        echo.insert("priority".into(), Value::from(self.priority.as_str()));
        echo.insert("seed".into(), Value::from(seed));
        Value::Object(echo)
    }

    /// The job to store for `owner`, generating `scenario` from `config`,
    /// with the key derived from the password (hex) when encrypting.
    pub fn into_job(
        self,
        job_id: String,
        owner: &str,
        config: ScenarioConfig,
        scenario: &Scenario,
        encryption_key: Option<String>,
    ) -> NewJob {
        let config_echo = self.echo(scenario.seed);
        NewJob {
            job_id,
            owner_key_id: Some(owner.to_string()),
            config: config_echo,
            scenario: config,
            options: JobOptions {
                use_encryption: self.password.is_some(),
                output_formats: self.formats,
                use_compression: self.use_compression,
                priority: self.priority,
                name: scenario.name.clone(),
            },
            seed: scenario.seed,
            total_patients: i32::try_from(scenario.total_patients).unwrap_or(i32::MAX),
            encryption_key,
            generator_version: patientgen_core::VERSION.to_string(),
        }
    }
}
