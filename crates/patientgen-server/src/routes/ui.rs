//! The embedded web page (`/static/…`): plain ES modules and CSS compiled into
//! the binary with `include_str!` (cargo rebuilds when one changes), no CDN, no
//! build step. A test checks that this list and the `static/` directory agree.

use crate::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../static/", $path)))),*]
    };
}

/// Every file under `static/`, by its path there.
pub const FILES: &[(&str, &str)] = assets![
    "index.html",
    "css/main.css",
    "css/components/accordion.css",
    "css/components/banner.css",
    "js/app.js",
    "js/jobs.js",
    "js/scenario.js",
    "js/components/accordion.js",
    "js/components/charts.js",
    "js/components/dom.js",
    "js/services/api.js",
    "js/timeline/model.js",
    "js/timeline/player.js",
    "vendor/smol-toml/LICENSE",
    "vendor/smol-toml/date.d.ts",
    "vendor/smol-toml/date.js",
    "vendor/smol-toml/error.d.ts",
    "vendor/smol-toml/error.js",
    "vendor/smol-toml/extract.js",
    "vendor/smol-toml/index.d.ts",
    "vendor/smol-toml/index.js",
    "vendor/smol-toml/parse.d.ts",
    "vendor/smol-toml/parse.js",
    "vendor/smol-toml/primitive.js",
    "vendor/smol-toml/stringify.d.ts",
    "vendor/smol-toml/stringify.js",
    "vendor/smol-toml/struct.js",
    "vendor/smol-toml/util.d.ts",
    "vendor/smol-toml/util.js",
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// Serves an embedded file.
pub async fn asset(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(name, _)| *name == path) {
        Some((name, body)) => {
            ([(header::CONTENT_TYPE, content_type(name)), (header::CACHE_CONTROL, "no-cache")], *body)
                .into_response()
        }
        None => crate::error::ApiError::not_found("Not Found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path as FsPath;

    fn walk(dir: &FsPath, root: &FsPath, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("static dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).expect("prefix").to_string_lossy().replace('\\', "/");
                out.push(rel);
            }
        }
    }

    /// A file added to `static/` but not to [`FILES`] (or listed but gone) fails here.
    #[test]
    fn every_static_file_is_embedded() {
        let root = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let mut on_disk = Vec::new();
        walk(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("js/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("vendor/smol-toml/LICENSE"), "text/plain; charset=utf-8");
    }
}
