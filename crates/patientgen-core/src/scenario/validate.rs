//! Validation: [`ScenarioConfig`] → [`Scenario`], with every problem reported as
//! `field: rule` (upstream's 422 `detail` style, e.g.
//! `front_configs -> 0 -> casualty_rate: must be between 0 and 1`).

use super::config::{FacilityConfig, FrontConfig, ScenarioConfig};
use super::{FacilityParams, Front, MAX_DAYS, MAX_PATIENTS, Scenario};
use crate::data::{Catalog, NationId};
use crate::model::{Environment, InjuryType, Intensity, Role, SpecialEvent, Tempo, Triage, WarfareType};
use crate::time::CivilDate;
use std::collections::BTreeMap;
use std::fmt;

/// One problem: which field and what rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Field path, e.g. `front_configs -> 0 -> id`.
    pub field: String,
    /// The rule, e.g. `must not be empty`.
    pub message: String,
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Limits and defaults the caller decides.
#[derive(Debug, Clone, Copy)]
pub struct ValidationOptions {
    /// Ceiling on `total_patients` (the service's per-job ceiling; the CLI
    /// takes any count).
    pub max_patients: u32,
    /// Seed used when the configuration has none.
    pub fallback_seed: u64,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self { max_patients: MAX_PATIENTS, fallback_seed: 0 }
    }
}

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.into(), message: message.into() });
    }

    fn whole_number(&mut self, field: &str, n: &serde_json::Number, lo: u64, hi: u64) -> Option<u32> {
        let value = n.as_u64().or_else(|| {
            n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64).map(|f| f as u64)
        });
        match value {
            Some(v) if (lo..=hi).contains(&v) => u32::try_from(v).ok(),
            Some(_) | None if n.as_f64().is_some_and(|f| f.fract() != 0.0) => {
                self.fail(field, "must be a whole number");
                None
            }
            _ => {
                self.fail(field, format!("must be between {lo} and {hi}"));
                None
            }
        }
    }

    fn fraction(&mut self, field: String, v: f64) -> bool {
        if !(0.0..=1.0).contains(&v) || !v.is_finite() {
            self.fail(field, "must be between 0 and 1");
            return false;
        }
        true
    }
}

const WARFARE_ALIASES: &[(&str, WarfareType)] = &[("amphibious", WarfareType::Naval)];
const ENVIRONMENT_ALIASES: &[(&str, Environment)] =
    &[("extreme_weather", Environment::Storm), ("urban_environment", Environment::UrbanDebris)];

fn parse_warfare(key: &str) -> Option<WarfareType> {
    WarfareType::parse(key)
        .filter(|w| *w != WarfareType::Mixed)
        .or_else(|| WARFARE_ALIASES.iter().find(|(a, _)| *a == key).map(|(_, w)| *w))
}

fn parse_environment(key: &str) -> Option<Environment> {
    Environment::parse(key).or_else(|| ENVIRONMENT_ALIASES.iter().find(|(a, _)| *a == key).map(|(_, e)| *e))
}

/// Reads `YYYY-MM-DD` (or the date of an RFC 3339 instant).
fn parse_date(text: &str) -> Option<CivilDate> {
    let date_part = text.get(..10)?;
    let d = chrono::NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()?;
    if text.len() > 10 && chrono::DateTime::parse_from_rfc3339(text).is_err() {
        return None;
    }
    use chrono::Datelike;
    Some(CivilDate::from_ymd(d.year(), d.month(), d.day()))
}

/// Keys from `advanced_overrides.scenario_modifiers` that upstream's UI copies to
/// the top level; we read them only when the top level lacks them.
fn scenario_modifier<'a>(config: &'a ScenarioConfig, key: &str) -> Option<&'a serde_json::Value> {
    config.advanced_overrides.as_ref()?.get("scenario_modifiers")?.get(key)
}

fn bool_map(value: &serde_json::Value) -> Option<BTreeMap<String, bool>> {
    serde_json::from_value(value.clone()).ok()
}

impl ScenarioConfig {
    /// What [`validate`](Self::validate) accepts but does not use, for the
    /// user to hear about: facilities whose role cannot be told from `role`,
    /// `id` or `name` (upstream accepts and ignores them).
    pub fn warnings(&self) -> Vec<FieldError> {
        self.facility_configs
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, f)| facility_role(f).is_none())
            .map(|(i, f)| FieldError {
                field: format!("facility_configs -> {i}"),
                message: format!(
                    "ignored: cannot tell which role '{}' is (name it Role1 … Role4 or set `role`)",
                    f.id
                ),
            })
            .collect()
    }

    /// Checks the configuration against the catalogue and returns the scenario,
    /// or every problem found.
    pub fn validate(
        &self,
        catalog: &Catalog,
        options: ValidationOptions,
    ) -> Result<Scenario, ValidationErrors> {
        let mut c = Checker { errors: Vec::new() };
        let max = u64::from(options.max_patients);

        let total_patients = match (&self.total_patients, &self.count) {
            (Some(n), _) => c.whole_number("total_patients", n, 1, max),
            (None, Some(n)) => c.whole_number("count", n, 1, max),
            (None, None) => Some(1440u32.min(max as u32)),
        };
        let days = match (&self.days_of_fighting, &self.duration_days) {
            (Some(n), _) => c.whole_number("days_of_fighting", n, 1, u64::from(MAX_DAYS)),
            (None, Some(n)) => c.whole_number("duration_days", n, 1, u64::from(MAX_DAYS)),
            (None, None) => Some(8),
        };
        let base_date = match &self.base_date {
            None => Some(CivilDate::from_ymd(2025, 6, 1)),
            Some(text) => {
                let d = parse_date(text);
                if d.is_none() {
                    c.fail("base_date", "must be a date written YYYY-MM-DD");
                }
                d
            }
        };

        let warfare = self.check_warfare(&mut c, catalog);
        let intensity = self.check_enum(
            &mut c,
            "intensity",
            self.intensity
                .clone()
                .or_else(|| scenario_modifier(self, "intensity").and_then(|v| v.as_str().map(String::from))),
            Intensity::Medium,
            Intensity::parse,
            Intensity::ALL.iter().map(|i| i.as_str()),
        );
        let tempo = self.check_enum(
            &mut c,
            "tempo",
            self.tempo
                .clone()
                .or_else(|| scenario_modifier(self, "tempo").and_then(|v| v.as_str().map(String::from))),
            Tempo::Sustained,
            Tempo::parse,
            Tempo::ALL.iter().map(|t| t.as_str()),
        );
        let special_events = self.check_special_events(&mut c);
        let environment = self.check_environment(&mut c);
        let injury_mix = self.check_injury_mix(&mut c);
        let fronts = self.check_fronts(&mut c, catalog);
        let chain = self.check_chain(&mut c);
        let (facilities, front_facilities) = self.check_facilities(&mut c, catalog, &fronts);
        let triage_override = self.check_triage_override(&mut c);

        if !c.errors.is_empty() {
            return Err(ValidationErrors(c.errors));
        }
        let (Some(total_patients), Some(days), Some(base_date)) = (total_patients, days, base_date) else {
            return Err(ValidationErrors(vec![FieldError {
                field: "configuration".into(),
                message: "is incomplete".into(),
            }]));
        };
        Ok(Scenario {
            name: self.name.clone().unwrap_or_else(|| "Generated Configuration".into()),
            preset_id: self.preset_id.clone(),
            total_patients,
            days,
            base_date,
            warfare,
            intensity,
            tempo,
            special_events,
            environment,
            injury_mix,
            fronts,
            chain,
            facilities,
            front_facilities,
            triage_override,
            seed: self.seed.unwrap_or(options.fallback_seed),
        })
    }

    fn check_enum<E: Copy>(
        &self,
        c: &mut Checker,
        field: &str,
        value: Option<String>,
        default: E,
        parse: fn(&str) -> Option<E>,
        allowed: impl Iterator<Item = &'static str>,
    ) -> E {
        match value {
            None => default,
            Some(v) => parse(&v.to_ascii_lowercase()).unwrap_or_else(|| {
                let allowed: Vec<&str> = allowed.collect();
                c.fail(field, format!("'{v}' is not one of {}", allowed.join(", ")));
                default
            }),
        }
    }

    fn check_warfare(&self, c: &mut Checker, catalog: &Catalog) -> Vec<(WarfareType, f64)> {
        let modifier = scenario_modifier(self, "warfare_types").and_then(bool_map);
        let map = self.warfare_types.clone().or(modifier);
        let mut active = Vec::new();
        match (map, &self.warfare_type) {
            (Some(map), _) => {
                for (key, on) in &map {
                    match parse_warfare(&key.to_ascii_lowercase()) {
                        Some(w) if *on && !active.contains(&w) => {
                            active.push(w);
                        }
                        Some(_) => {}
                        None if *on => c.fail(
                            format!("warfare_types -> {key}"),
                            format!(
                                "unknown warfare type (known: {})",
                                known(
                                    WarfareType::ALL
                                        .iter()
                                        .filter(|w| **w != WarfareType::Mixed)
                                        .map(|w| w.as_str())
                                )
                            ),
                        ),
                        None => {}
                    }
                }
                if active.is_empty() && c.errors.iter().all(|e| !e.field.starts_with("warfare_types")) {
                    c.fail("warfare_types", "at least one warfare type must be true");
                }
            }
            (None, Some(single)) => match parse_warfare(&single.to_ascii_lowercase()) {
                Some(w) => active.push(w),
                None => c.fail("warfare_type", format!("unknown warfare type '{single}'")),
            },
            (None, None) => {
                active = vec![WarfareType::Conventional, WarfareType::Artillery, WarfareType::Drone]
            }
        }
        active.sort();
        active.into_iter().map(|w| (w, catalog.warfare.profile(w).weight)).collect()
    }

    fn check_special_events(&self, c: &mut Checker) -> Vec<SpecialEvent> {
        let modifier = scenario_modifier(self, "special_events").and_then(bool_map);
        let Some(map) = self.special_events.clone().or(modifier) else {
            return vec![SpecialEvent::MassCasualty];
        };
        let mut out = Vec::new();
        for (key, on) in &map {
            match SpecialEvent::parse(key) {
                Some(e) if *on => out.push(e),
                Some(_) => {}
                None if *on => c.fail(
                    format!("special_events -> {key}"),
                    format!(
                        "unknown special event (known: {})",
                        known(SpecialEvent::ALL.iter().map(|e| e.as_str()))
                    ),
                ),
                None => {}
            }
        }
        out.sort();
        out
    }

    fn check_environment(&self, c: &mut Checker) -> Vec<Environment> {
        let modifier = scenario_modifier(self, "environmental_conditions").and_then(bool_map);
        let Some(map) = self.environmental_conditions.clone().or(modifier) else {
            return vec![Environment::NightOperations];
        };
        let mut out = Vec::new();
        for (key, on) in &map {
            match parse_environment(key) {
                Some(e) if *on && !out.contains(&e) => {
                    out.push(e);
                }
                Some(_) => {}
                None if *on => c.fail(
                    format!("environmental_conditions -> {key}"),
                    format!(
                        "unknown condition (known: {})",
                        known(Environment::ALL.iter().map(|e| e.as_str()))
                    ),
                ),
                None => {}
            }
        }
        out.sort();
        out
    }

    fn check_injury_mix(&self, c: &mut Checker) -> [f64; 3] {
        let (field, map) = match (&self.injury_mix, &self.injury_distribution) {
            (Some(m), _) => ("injury_mix", m),
            (None, Some(m)) => ("injury_distribution", m),
            (None, None) => return [0.15, 0.33, 0.52],
        };
        let mut mix = [0.0; 3];
        for (key, value) in map {
            let category = InjuryType::parse(key).or(match key.as_str() {
                "BATTLE_TRAUMA" => Some(InjuryType::BattleInjury),
                "NON_BATTLE" => Some(InjuryType::NonBattleInjury),
                "DISEASE" => Some(InjuryType::Disease),
                _ => None,
            });
            match category {
                Some(t) if value.is_finite() && *value >= 0.0 => mix[t.index()] = *value,
                Some(_) => c.fail(format!("{field} -> {key}"), "must be a non-negative number"),
                None => c.fail(
                    format!("{field} -> {key}"),
                    "unknown injury type (known: Battle Injury, Non-Battle Injury, Disease)",
                ),
            }
        }
        let sum: f64 = mix.iter().sum();
        if (sum - 1.0).abs() <= 0.01 || (sum - 100.0).abs() <= 1.0 {
            mix.map(|v| v / sum)
        } else {
            c.fail(field, format!("shares must sum to 1 (or 100 %), got {sum}"));
            [0.0; 3]
        }
    }

    fn check_fronts(&self, c: &mut Checker, catalog: &Catalog) -> Vec<Front> {
        let configs: Vec<FrontConfig> = match &self.front_configs {
            Some(f) if !f.is_empty() => f.clone(),
            _ => default_fronts(catalog),
        };
        let mut fronts = Vec::new();
        let given = configs.iter().filter(|f| f.casualty_rate.is_some()).count();
        if given != 0 && given != configs.len() {
            c.fail("front_configs", "casualty_rate must be given for every front or for none");
        }
        let mut ids: Vec<&str> = Vec::new();
        for (i, f) in configs.iter().enumerate() {
            let at = |k: &str| format!("front_configs -> {i} -> {k}");
            if f.id.trim().is_empty() {
                c.fail(at("id"), "must not be empty");
            } else if ids.contains(&f.id.as_str()) {
                c.fail(at("id"), format!("duplicate front id '{}'", f.id));
            }
            ids.push(&f.id);
            if f.name.trim().is_empty() {
                c.fail(at("name"), "must not be empty");
            }
            let weight = f.casualty_rate.unwrap_or(1.0);
            if f.casualty_rate.is_some() {
                c.fraction(at("casualty_rate"), weight);
            }
            if f.nationality_distribution.is_empty() {
                c.fail(at("nationality_distribution"), "must list at least one nationality");
            }
            let mut nations: Vec<(NationId, f64)> = Vec::new();
            let mut sum = 0.0;
            for (j, n) in f.nationality_distribution.iter().enumerate() {
                let nat = |k: &str| format!("front_configs -> {i} -> nationality_distribution -> {j} -> {k}");
                if !(0.0..=100.0).contains(&n.percentage) || !n.percentage.is_finite() {
                    c.fail(nat("percentage"), "must be between 0 and 100");
                }
                sum += n.percentage;
                match catalog.nations.find(&n.nationality_code) {
                    Some(id) if n.percentage > 0.0 => match nations.iter_mut().find(|(x, _)| *x == id) {
                        Some(entry) => entry.1 += n.percentage,
                        None => nations.push((id, n.percentage)),
                    },
                    Some(_) => {}
                    None => c.fail(
                        nat("nationality_code"),
                        format!(
                            "unknown nation '{}' (use an ISO 3166-1 alpha-3 or alpha-2 code of a NATO member)",
                            n.nationality_code
                        ),
                    ),
                }
            }
            if !f.nationality_distribution.is_empty() && (sum - 100.0).abs() > 0.5 {
                c.fail(at("nationality_distribution"), format!("percentages must sum to 100, got {sum}"));
            }
            let total: f64 = nations.iter().map(|(_, w)| w).sum();
            if total > 0.0 {
                for n in &mut nations {
                    n.1 /= total;
                }
            }
            fronts.push(Front { id: f.id.clone(), name: f.name.clone(), weight, nations });
        }
        let total: f64 = fronts.iter().map(|f| f.weight).sum();
        if total <= 0.0 {
            if c.errors.is_empty() {
                c.fail("front_configs", "at least one front needs a casualty_rate above 0");
            }
        } else {
            for f in &mut fronts {
                f.weight /= total;
            }
        }
        fronts
    }

    fn check_chain(&self, c: &mut Checker) -> Vec<Role> {
        let Some(names) = &self.facility_chain else {
            return Role::ALL.to_vec();
        };
        let mut chain = Vec::new();
        for (i, name) in names.iter().enumerate() {
            match Role::infer(name) {
                Some(r) if chain.last().is_none_or(|last| *last < r) => chain.push(r),
                Some(_) => c.fail(
                    format!("facility_chain -> {i}"),
                    "roles must be listed once, in order POI, Role1 … Role4",
                ),
                None => c.fail(format!("facility_chain -> {i}"), format!("unknown role '{name}'")),
            }
        }
        if chain.first() != Some(&Role::Poi) {
            c.fail("facility_chain", "must start with POI");
        }
        if chain.len() < 2 {
            c.fail("facility_chain", "needs POI and at least one facility");
        }
        chain
    }

    #[allow(clippy::type_complexity)]
    fn check_facilities(
        &self,
        c: &mut Checker,
        catalog: &Catalog,
        fronts: &[Front],
    ) -> ([FacilityParams; 5], Vec<(usize, Role, FacilityParams)>) {
        let mut global = [FacilityParams::default(); 5];
        let mut per_front = Vec::new();
        for (i, f) in self.facility_configs.iter().flatten().enumerate() {
            let at = |k: &str| format!("facility_configs -> {i} -> {k}");
            // A facility whose role cannot be told is ignored (upstream ignores
            // every facility); `warnings` says so.
            let Some(role) = facility_role(f) else {
                continue;
            };
            let ok = c.fraction(at("kia_rate"), f.kia_rate) & c.fraction(at("rtd_rate"), f.rtd_rate);
            let capacity = match f.capacity {
                None => None,
                Some(n) if n > 0 => u32::try_from(n).ok(),
                Some(_) => {
                    c.fail(at("capacity"), "must be greater than 0");
                    None
                }
            };
            if !ok {
                continue;
            }
            let defaults = catalog.flow.defaults[role.index()];
            let params = FacilityParams {
                death_factor: f.kia_rate / defaults.kia_rate,
                rtd_factor: if defaults.rtd_rate > 0.0 { f.rtd_rate / defaults.rtd_rate } else { 1.0 },
                capacity,
            };
            match &f.front_id {
                Some(front_id) => match fronts.iter().position(|fr| fr.id == *front_id) {
                    Some(idx) => per_front.push((idx, role, params)),
                    None => c.fail(at("front_id"), format!("no front has id '{front_id}'")),
                },
                None => global[role.index()] = params,
            }
        }
        (global, per_front)
    }

    fn check_triage_override(&self, c: &mut Checker) -> [Option<[f64; 3]>; 3] {
        let mut out = [None; 3];
        for (key, weights) in self.triage_override.iter().flatten() {
            let Some(t) = InjuryType::parse(key) else {
                c.fail(format!("triage_override -> {key}"), "unknown injury type");
                continue;
            };
            let mut w = [0.0; 3];
            for (tk, v) in weights {
                match Triage::parse(tk) {
                    Some(tri) if tri != Triage::T4 && v.is_finite() && *v >= 0.0 => w[tri.index()] = *v,
                    _ => c.fail(
                        format!("triage_override -> {key} -> {tk}"),
                        "use T1, T2, T3 with non-negative shares",
                    ),
                }
            }
            if w.iter().sum::<f64>() <= 0.0 {
                c.fail(format!("triage_override -> {key}"), "shares must sum to more than 0");
            } else {
                out[t.index()] = Some(w);
            }
        }
        out
    }
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

fn facility_role(f: &FacilityConfig) -> Option<Role> {
    f.role.as_deref().and_then(Role::infer).or_else(|| Role::infer(&f.id)).or_else(|| Role::infer(&f.name))
}

/// Upstream's static fronts (`fronts_config.json`), used when a configuration has none.
fn default_fronts(catalog: &Catalog) -> Vec<FrontConfig> {
    catalog
        .presets
        .get("default")
        .map(|p| {
            p.fronts
                .iter()
                .enumerate()
                .map(|(i, f)| FrontConfig {
                    id: ["poland", "estonia", "finland"]
                        .get(i)
                        .map_or_else(|| format!("front_{i}"), |s| s.to_string()),
                    name: f.name.clone(),
                    nationality_distribution: f.nationality_distribution.clone(),
                    casualty_rate: Some(f.casualty_rate),
                })
                .collect()
        })
        .unwrap_or_default()
}
