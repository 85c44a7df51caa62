//! Reference data (no key needed).

use crate::models::{FacilityType, Nationality, StaticFront};
use axum::Json;
use patientgen_core::data::catalog;
use patientgen_core::model::Role;
use patientgen_core::scenario::NationalityShare;

/// The 32 NATO nations, sorted by name.
#[utoipa::path(get, path = "/api/v1/configurations/reference/nationalities/", tag = "reference",
    responses((status = 200, description = "Nations", body = Vec<Nationality>)))]
pub async fn nationalities() -> Json<Vec<Nationality>> {
    Json(
        catalog()
            .nations
            .nato_members()
            .into_iter()
            .map(|n| Nationality { code: n.code.clone(), name: n.name.clone() })
            .collect(),
    )
}

/// Upstream's condition types.
#[utoipa::path(get, path = "/api/v1/configurations/reference/condition-types/", tag = "reference",
    responses((status = 200, description = "Condition types", body = Vec<String>)))]
pub async fn condition_types() -> Json<Vec<&'static str>> {
    Json(vec!["DISEASE", "NON_BATTLE", "BATTLE_TRAUMA"])
}

/// The roles of the chain of care.
#[utoipa::path(get, path = "/api/v1/configurations/reference/facility-types/", tag = "reference",
    responses((status = 200, description = "Facility types", body = Vec<FacilityType>)))]
pub async fn facility_types() -> Json<Vec<FacilityType>> {
    Json(
        Role::ALL
            .iter()
            .map(|r| FacilityType { id: r.short_id().into(), name: r.display_name().into() })
            .collect(),
    )
}

/// Upstream's static fronts (used when a configuration has none).
#[utoipa::path(get, path = "/api/v1/configurations/reference/static-fronts/", tag = "reference",
    responses((status = 200, description = "Static fronts", body = Vec<StaticFront>)))]
pub async fn static_fronts() -> Json<Vec<StaticFront>> {
    let fronts = catalog().presets.get("default").map(|p| p.fronts.clone()).unwrap_or_default();
    Json(
        fronts
            .into_iter()
            .map(|f| StaticFront {
                name: f.name.trim_end_matches(" Front").to_string(),
                ratio: f.casualty_rate,
                nations: f
                    .nationality_distribution
                    .into_iter()
                    .map(|n| NationalityShare {
                        nationality_code: n.nationality_code,
                        percentage: n.percentage,
                    })
                    .collect(),
            })
            .collect(),
    )
}
