//! First run: when `serve` starts on a database that holds no API key (the
//! public demo key aside) and no admin key is configured, it creates an admin
//! key and shows it once on the console — on stdout, never through the logs —
//! with a link whose fragment (`#key=…`) the web page picks up. A fragment is
//! not sent to the server, so the key never reaches an access log either.
//! Turned off with `serve --no-first-run-key` (`PATIENTGEN_FIRST_RUN_KEY=false`),
//! and never done in the production profile, where the admin key comes only
//! from the configuration.

use crate::ServeError;
use crate::config::DEMO_KEY;
use crate::settings::Profile;
use crate::state::AppState;
use patientgen_storage::keys::hash_key;
use patientgen_storage::{KeyFilter, NewApiKey};
use secrecy::{ExposeSecret, SecretString};
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
    let configured = |k: &Option<SecretString>| k.as_ref().is_some_and(|k| !k.expose_secret().is_empty());
    if !config.first_run_key
        || config.profile == Profile::Production
        || configured(&config.admin_key)
        || configured(&config.legacy_api_key)
    {
        return Ok(None);
    }
    let demo = hash_key(DEMO_KEY);
    let keys = state.store.list_keys(&KeyFilter { limit: 2, ..KeyFilter::default() }).await?;
    if keys.iter().any(|k| k.key_hash != demo) {
        return Ok(None);
    }
    let settings =
        crate::admin_key_settings(config, "First-run admin key", serde_json::json!({"first_run": true}));
    let (key, plaintext) = NewApiKey::generate(settings)
        .map_err(|e| ServeError::Config(format!("cannot make the first-run key: {e}")))?;
    state.store.insert_key(&key, state.clock.now()).await?;
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
