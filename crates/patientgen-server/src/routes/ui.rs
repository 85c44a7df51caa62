//! The embedded web page (`/static/…`): no CDN, no build step.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../static/index.html")),
    ("css/main.css", "text/css; charset=utf-8", include_str!("../../static/css/main.css")),
    ("js/app.js", "text/javascript; charset=utf-8", include_str!("../../static/js/app.js")),
];

/// Serves an embedded file.
pub async fn asset(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == path) {
        Some((_, content_type, body)) => ([(header::CONTENT_TYPE, *content_type)], *body).into_response(),
        None => crate::error::ApiError::not_found("Not Found").into_response(),
    }
}
