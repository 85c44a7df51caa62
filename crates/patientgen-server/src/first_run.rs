//! First run: when `serve` starts on a database that holds no API key (the
//! public demo key aside) and no admin key is configured, it creates an admin
//! key and shows it once on the console — on stdout, never through the logs —
//! with a link whose fragment (`#key=…`) the web page picks up. A fragment is
//! not sent to the server, so the key never reaches an access log either.
//! Turned off with `serve --no-first-run-key` (`PATIENTGEN_FIRST_RUN_KEY=false`).

use crate::ServeError;
use crate::auth::{KeyKind, display_prefix, generate_key, hash_key};
use crate::config::DEMO_KEY;
use crate::state::AppState;
use chrono::Utc;
use patientgen_storage::{KeyFilter, KeyLimits, NewApiKey};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The address a browser on this machine should open: the bound address, with
/// 127.0.0.1 in place of an unspecified one (0.0.0.0 or ::).
pub fn browser_address(bound: SocketAddr) -> String {
    let ip = if bound.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { bound.ip() };
    SocketAddr::new(ip, bound.port()).to_string()
}

/// Creates the first-run admin key when it is wanted and the key table is
/// empty, and writes it with the page link to `out`. Returns the key it
/// created, if any.
pub async fn announce(
    state: &AppState,
    bound: SocketAddr,
    out: &mut dyn Write,
) -> Result<Option<String>, ServeError> {
    let config = &state.config;
    let configured = |k: &Option<String>| k.as_deref().is_some_and(|k| !k.is_empty());
    if !config.first_run_key || configured(&config.admin_key) || configured(&config.legacy_api_key) {
        return Ok(None);
    }
    let demo = hash_key(DEMO_KEY);
    let keys = state.store.list_keys(&KeyFilter { limit: 2, ..KeyFilter::default() }).await?;
    if keys.iter().any(|k| k.key_hash != demo) {
        return Ok(None);
    }
    let Ok(plaintext) = generate_key(KeyKind::Live) else {
        return Err(ServeError::Config("no secure random numbers for the first-run key".into()));
    };
    let key = NewApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        key_hash: hash_key(&plaintext),
        key_prefix: display_prefix(&plaintext),
        name: "First-run admin key".into(),
        email: None,
        is_demo: false,
        scopes: "admin,generate,read".into(),
        limits: KeyLimits {
            max_patients_per_request: i32::try_from(config.max_patients_per_job).unwrap_or(i32::MAX),
            max_requests_per_minute: 6000,
            max_requests_per_hour: 100_000,
            max_requests_per_day: None,
            max_patients_per_day: None,
        },
        expires_at: None,
        metadata: serde_json::json!({"first_run": true}),
    };
    state.store.insert_key(&key, Utc::now()).await?;
    let link = format!("http://{}/#key={plaintext}", browser_address(bound));
    // Failing to print must not stop the service; the key can be replaced with `patientgen keys`.
    let _ = writeln!(
        out,
        "\nFirst run: patientgen created an admin API key. It is shown only this once.\n\
         \n  Open the web UI:  {link}\n  API key:          {plaintext}\n\n\
         The page keeps the key in this browser. More keys: patientgen keys create --name NAME\n"
    );
    let _ = out.flush();
    tracing::info!(key_prefix = %key.key_prefix, "first run: an admin key was created and shown on the console");
    Ok(Some(plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        assert_eq!(browser_address("0.0.0.0:8000".parse().expect("addr")), "127.0.0.1:8000");
        assert_eq!(browser_address("[::]:9000".parse().expect("addr")), "127.0.0.1:9000");
        assert_eq!(browser_address("127.0.0.1:81".parse().expect("addr")), "127.0.0.1:81");
        assert_eq!(browser_address("[::1]:81".parse().expect("addr")), "[::1]:81");
    }
}
