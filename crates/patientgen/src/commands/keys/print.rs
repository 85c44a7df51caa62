//! How keys are shown: an aligned table (default), JSON or CSV, in upstream's
//! shapes. Nothing here touches the database.

use crate::cli::keys::OutputFormat;
use crate::error::{CliError, CliResult};
use crate::output::outln;
use chrono::{DateTime, Utc};
use patientgen_storage::{ApiKeyRecord, KeyLimits, KeyStats};
use serde_json::{Value, json};

/// A time as the table shows it, or `Never`.
pub fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "Never".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

fn iso(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

fn limits_json(k: &ApiKeyRecord) -> Value {
    json!({
        "patients_per_request": k.max_patients_per_request,
        "requests_per_day": k.max_requests_per_day.map_or(Value::from("Unlimited"), Value::from),
        "requests_per_hour": k.max_requests_per_hour,
        "requests_per_minute": k.max_requests_per_minute,
        "patients_per_day": k.max_patients_per_day.map_or(Value::from("Unlimited"), Value::from),
    })
}

fn usage_json(k: &ApiKeyRecord) -> Value {
    json!({
        "total_requests": k.total_requests,
        "total_patients": k.total_patients_generated,
        "daily_requests": k.daily_requests,
        "daily_patients": k.daily_patients,
        "last_used": iso(k.last_used_at),
        "last_reset": iso(Some(k.last_reset_at)),
    })
}

fn scope_names(k: &ApiKeyRecord) -> Vec<&'static str> {
    k.scopes.iter().map(|s| s.as_str()).collect()
}

fn list_json(k: &ApiKeyRecord) -> Value {
    json!({
        "id": k.id, "key_prefix": k.key_prefix, "name": k.name, "email": k.email,
        "is_active": k.is_active, "is_demo": k.is_demo, "scopes": scope_names(k),
        "created_at": iso(Some(k.created_at)), "expires_at": iso(k.expires_at), "last_used_at": iso(k.last_used_at),
        "usage": usage_json(k), "limits": limits_json(k),
    })
}

fn print_json(v: &Value) -> CliResult {
    let text = serde_json::to_string_pretty(v).map_err(|e| CliError::Runtime(e.into()))?;
    outln!("{text}");
    Ok(())
}

fn status_of(k: &ApiKeyRecord, now: DateTime<Utc>) -> &'static str {
    if !k.is_active {
        "inactive"
    } else if k.is_expired(now) {
        "expired"
    } else {
        "active"
    }
}

/// A limit, or `unlimited`.
pub fn limit_text(v: Option<i32>) -> String {
    v.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

fn yes(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Every field of a key, one per line.
pub fn key_table(k: &ApiKeyRecord, now: DateTime<Utc>) {
    outln!("ID:                  {}", k.id);
    outln!("Key:                 {}", k.key_prefix);
    outln!("Name:                {}", k.name);
    outln!("E-mail:              {}", k.email.as_deref().unwrap_or("-"));
    outln!("Status:              {}", status_of(k, now));
    outln!("Type:                {}", if k.is_demo { "demo" } else { "live" });
    outln!("Scopes:              {}", k.scopes);
    outln!("Created:             {}", when(Some(k.created_at)));
    outln!("Expires:             {}", when(k.expires_at));
    outln!("Last used:           {}", when(k.last_used_at));
    outln!("Patients/request:    {}", k.max_patients_per_request);
    outln!("Requests/minute:     {}", k.max_requests_per_minute);
    outln!("Requests/hour:       {}", k.max_requests_per_hour);
    outln!("Requests/day:        {}", limit_text(k.max_requests_per_day));
    outln!("Patients/day:        {}", limit_text(k.max_patients_per_day));
    outln!("Requests (total):    {}", k.total_requests);
    outln!("Patients (total):    {}", k.total_patients_generated);
    if let Some(r) = &k.replaced_by {
        outln!("Replaced by:         {r}");
    }
}

/// A new key with its plaintext, which is shown only this once.
pub fn created(k: &ApiKeyRecord, plaintext: &str, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    match format {
        OutputFormat::Json => print_json(&json!({
            "id": k.id, "key": plaintext, "name": k.name, "email": k.email, "is_demo": k.is_demo,
            "scopes": scope_names(k), "expires_at": iso(k.expires_at), "created_at": iso(Some(k.created_at)),
            "limits": limits_json(k),
        })),
        OutputFormat::Csv => {
            outln!("ID,Key,Name,Email,Demo,Expires");
            outln!(
                "{},{},{},{},{},{}",
                csv(&k.id),
                csv(plaintext),
                csv(&k.name),
                csv(k.email.as_deref().unwrap_or("")),
                yes(k.is_demo),
                when(k.expires_at)
            );
            Ok(())
        }
        OutputFormat::Table => {
            key_table(k, now);
            outln!();
            outln!("API key: {plaintext}");
            outln!("Store it now: it is kept only as a hash and cannot be shown again.");
            Ok(())
        }
    }
}

/// An imported key (its plaintext is not repeated).
pub fn imported(k: &ApiKeyRecord, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    match format {
        OutputFormat::Json => print_json(&list_json(k)),
        _ => {
            key_table(k, now);
            outln!("\nImported: the key is stored as a hash.");
            Ok(())
        }
    }
}

/// `keys list`.
pub fn list(keys: &[ApiKeyRecord], format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    match format {
        OutputFormat::Json => print_json(&Value::from(keys.iter().map(list_json).collect::<Vec<_>>())),
        OutputFormat::Csv => {
            list_csv(keys);
            Ok(())
        }
        OutputFormat::Table => {
            list_table(keys, now);
            Ok(())
        }
    }
}

fn list_csv(keys: &[ApiKeyRecord]) {
    outln!("ID,Key Prefix,Name,Email,Active,Demo,Created,Expires,Last Used,Total Requests,Daily Requests");
    for k in keys {
        outln!(
            "{},{},{},{},{},{},{},{},{},{},{}",
            k.id,
            csv(&k.key_prefix),
            csv(&k.name),
            csv(k.email.as_deref().unwrap_or("")),
            yes(k.is_active),
            yes(k.is_demo),
            when(Some(k.created_at)),
            when(k.expires_at),
            when(k.last_used_at),
            k.total_requests,
            k.daily_requests
        );
    }
}

fn list_table(keys: &[ApiKeyRecord], now: DateTime<Utc>) {
    outln!(
        "{:<8}  {:<18} {:<24} {:<24} {:<8} {:<4} {:>8}  LAST USED",
        "ID",
        "KEY",
        "NAME",
        "EMAIL",
        "STATUS",
        "TYPE",
        "REQUESTS"
    );
    for k in keys {
        outln!(
            "{:<8}  {:<18} {:<24} {:<24} {:<8} {:<4} {:>8}  {}",
            &k.id[..8.min(k.id.len())],
            k.key_prefix,
            truncate(&k.name, 24),
            truncate(k.email.as_deref().unwrap_or("-"), 24),
            status_of(k, now),
            if k.is_demo { "demo" } else { "live" },
            k.total_requests,
            when(k.last_used_at)
        );
    }
    outln!("{} key(s)", keys.len());
}

/// `keys show`.
pub fn show(k: &ApiKeyRecord, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    match format {
        OutputFormat::Json => {
            let mut v = list_json(k);
            if let Some(o) = v.as_object_mut() {
                o.insert("updated_at".into(), iso(Some(k.updated_at)));
                o.insert("last_reset_at".into(), iso(Some(k.last_reset_at)));
                o.insert("metadata".into(), k.key_metadata.clone());
                o.insert("replaced_by".into(), Value::from(k.replaced_by.clone()));
            }
            print_json(&v)
        }
        _ => {
            key_table(k, now);
            Ok(())
        }
    }
}

/// `keys usage`.
pub fn usage(k: &ApiKeyRecord, format: OutputFormat) -> CliResult {
    match format {
        OutputFormat::Json => print_json(
            &json!({ "key_id": k.id, "key_name": k.name, "usage": usage_json(k), "limits": limits_json(k) }),
        ),
        _ => {
            outln!("Key:                 {} ({})", k.name, k.key_prefix);
            outln!("Requests (total):    {}", k.total_requests);
            outln!("Patients (total):    {}", k.total_patients_generated);
            outln!("Requests today:      {} of {}", k.daily_requests, limit_text(k.max_requests_per_day));
            outln!("Patients today:      {} of {}", k.daily_patients, limit_text(k.max_patients_per_day));
            outln!("Last used:           {}", when(k.last_used_at));
            Ok(())
        }
    }
}

/// `keys stats`.
pub fn stats(s: &KeyStats, days: i64, format: OutputFormat, now: DateTime<Utc>) -> CliResult {
    match format {
        OutputFormat::Json => {
            let mut stats = serde_json::to_value(s).map_err(|e| CliError::Runtime(e.into()))?;
            if let Some(o) = stats.as_object_mut() {
                o.insert("period_days".into(), Value::from(days));
            }
            print_json(&json!({ "period_days": days, "statistics": stats, "generated_at": iso(Some(now)) }))
        }
        _ => {
            outln!(
                "Keys:                {} ({} active, {} demo, {} live)",
                s.total_keys,
                s.active_keys,
                s.demo_keys,
                s.live_keys
            );
            outln!("{:<21}{}", format!("Used in {days} days:"), s.recently_used_keys);
            outln!("Requests (all time): {}", s.total_requests_all_time);
            outln!("Patients (all time): {}", s.total_patients_all_time);
            Ok(())
        }
    }
}

/// `keys limits`: each limit before and after.
pub fn limits_changed(name: &str, before: &KeyLimits, after: &KeyLimits) {
    outln!("✓ Limits of {name} updated");
    outln!("  patients/request {} → {}", before.max_patients_per_request, after.max_patients_per_request);
    outln!("  requests/minute  {} → {}", before.max_requests_per_minute, after.max_requests_per_minute);
    outln!("  requests/hour    {} → {}", before.max_requests_per_hour, after.max_requests_per_hour);
    outln!(
        "  requests/day     {} → {}",
        limit_text(before.max_requests_per_day),
        limit_text(after.max_requests_per_day)
    );
    outln!(
        "  patients/day     {} → {}",
        limit_text(before.max_patients_per_day),
        limit_text(after.max_patients_per_day)
    );
}
