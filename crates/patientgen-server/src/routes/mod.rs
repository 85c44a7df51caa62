//! The router: every route of upstream's v1 catalogue (minus the hidden debug
//! routes and the key leak), OpenAPI 3.1 at `/openapi.json`, Swagger UI at
//! `/docs` (assets embedded), and the middleware stack.

pub mod configurations;
pub mod download_entry;
pub mod downloads;
pub mod generation;
pub mod jobs;
pub mod presets;
pub mod reference;
pub mod streaming;
pub mod system;
pub mod ui;
pub mod visualizations;

use crate::envelope::{envelope, panic_response};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The OpenAPI document's fixed parts.
#[derive(OpenApi)]
#[openapi(
    info(title = "Military Medical Exercise Patient Generator", description = "patientgen: synthetic casualties for NATO medical exercises. Authenticate with the `X-API-Key` header.\n\nEvery error is the `ErrorResponse` envelope, `detail` a string naming the field for 422. A method a path does not list answers 405 with the envelope and an `Allow` header; an unknown path 404. Rejections made by the HTTP layer before a request is read (malformed request line or headers, a head over its size limit, a bad `Content-Length`) are plain responses without a body: see docs/DECISIONS.md."),
    modifiers(&SecurityAddon),
    components(schemas(crate::models::ErrorResponse)),
    tags(
        (name = "health", description = "Health, readiness and metrics"),
        (name = "reference", description = "Reference data"),
        (name = "configurations", description = "Saved scenario configurations"),
        (name = "generation", description = "Generation jobs"),
        (name = "jobs", description = "Job status, results, cancel, delete"),
        (name = "downloads", description = "Job files"),
        (name = "presets", description = "Scenario presets"),
        (name = "visualizations", description = "Dashboard data"),
        (name = "streaming", description = "Streaming generation"),
        (name = "system", description = "Front-end settings"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// The documented API routes and their OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::health))
        .routes(routes!(system::ready))
        .routes(routes!(system::metrics))
        .routes(routes!(system::full))
        .routes(routes!(system::live))
        .routes(routes!(system::api_ready))
        .routes(routes!(system::database))
        .routes(routes!(system::health_metrics))
        .routes(routes!(system::frontend))
        .routes(routes!(reference::nationalities))
        .routes(routes!(reference::condition_types))
        .routes(routes!(reference::facility_types))
        .routes(routes!(reference::static_fronts))
        .routes(routes!(configurations::create, configurations::list))
        .routes(routes!(configurations::get, configurations::update, configurations::delete))
        .routes(routes!(configurations::validate))
        .routes(routes!(generation::create))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::get, jobs::delete))
        .routes(routes!(jobs::results))
        .routes(routes!(jobs::cancel))
        .routes(routes!(downloads::download))
        .routes(routes!(visualizations::dashboard_data))
        .routes(routes!(visualizations::patient_detail))
        .routes(routes!(visualizations::sample_patients))
        .routes(routes!(presets::list))
        .routes(routes!(presets::get))
        .routes(routes!(presets::categories))
        .routes(routes!(streaming::stream_saved, streaming::stream_inline))
}

// Routes whose responses stream for as long as they need (no request timeout).
use crate::openapi::STREAMING;

/// Builds the application.
pub fn router(state: AppState) -> Router {
    let (api_router, mut doc) = api().split_for_parts();
    doc.info.version = patientgen_core::VERSION.to_string();
    let doc = crate::openapi::finish(doc, &state.config);
    let known: Arc<matchit::Router<()>> = Arc::new({
        let mut m = matchit::Router::new();
        for path in doc.paths.paths.keys() {
            let _ = m.insert(path.clone(), ());
        }
        m
    });
    let swagger = utoipa_swagger_ui::SwaggerUi::new("/docs")
        .url("/openapi.json", doc)
        .config(utoipa_swagger_ui::Config::default().validator_url("none"));
    let timeout = state.config.request_timeout;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(state.config.cors_origins.iter().filter_map(|o| o.parse().ok())))
        .allow_methods(tower_http::cors::Any)
        .allow_headers(tower_http::cors::Any)
        .max_age(Duration::from_secs(600));
    let compress = CompressionLayer::new().gzip(true).compress_when(
        DefaultPredicate::new()
            .and(NotForContentType::new("application/zip"))
            .and(NotForContentType::new("application/x-ndjson")),
    );
    let request_id = HeaderName::from_static("x-request-id");
    let clock = state.clock.clone();
    Router::new()
        .route("/", get(system::root))
        .route("/static/{*path}", get(ui::asset))
        .merge(api_router)
        .merge(swagger)
        .fallback(move |uri: Uri, req: Request| fallback(known.clone(), uri, req))
        .layer(middleware::from_fn(move |req: Request, next: middleware::Next| {
            timeout_unless_streaming(timeout, req, next)
        }))
        .layer(middleware::from_fn_with_state(state.clone(), crate::admission::admit_request))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn(move |req: Request, next: middleware::Next| {
            envelope(clock.clone(), req, next)
        }))
        .layer(compress)
        .layer(cors)
        .layer(crate::telemetry::http_trace_layer())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn timeout_unless_streaming(limit: Duration, req: Request, next: middleware::Next) -> Response {
    if STREAMING.iter().any(|p| req.uri().path().starts_with(p)) {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            crate::error::ApiError::new(StatusCode::REQUEST_TIMEOUT, "Request timed out").into_response()
        }
    }
}

/// Unknown routes: 307 to the other trailing-slash form when that form exists
/// (as upstream's framework does), else 404.
async fn fallback(known: Arc<matchit::Router<()>>, uri: Uri, _req: Request) -> Response {
    let path = uri.path();
    let other =
        if let Some(stripped) = path.strip_suffix('/') { stripped.to_string() } else { format!("{path}/") };
    if path.starts_with("/api/") && known.at(&other).is_ok() {
        let target = match uri.query() {
            Some(q) => format!("{other}?{q}"),
            None => other,
        };
        return Redirect::temporary(&target).into_response();
    }
    crate::error::ApiError::not_found("Not Found").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request as HttpRequest;

    /// A handler panic becomes the envelope, not a plain-text 500.
    #[tokio::test]
    async fn panics_become_envelopes() {
        async fn boom() -> &'static str {
            panic!("deliberate test panic")
        }
        let app: Router = Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(middleware::from_fn(|req: Request, next: middleware::Next| {
                envelope(Arc::new(crate::clock::SystemClock), req, next)
            }));
        let request = HttpRequest::builder()
            .uri("/boom")
            .header("x-request-id", "req-1")
            .body(Body::empty())
            .expect("request");
        let response = tower::ServiceExt::oneshot(app, request).await.expect("response");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"], "Internal Server Error");
        assert_eq!(v["request_id"], "req-1");
        assert!(!v.to_string().contains("deliberate"), "no internals in the response");
    }
}
