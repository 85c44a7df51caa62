//! The embedded web page: every file is served with its type, and the paths
//! upstream's tests and users load answer 200.

mod common;

use common::{Db, start};

#[tokio::test]
async fn every_embedded_file_and_the_upstream_paths_are_served() {
    let s = start(Db::Sqlite, |_| {}).await;
    for (path, body) in patientgen_server::routes::ui::FILES {
        let r = s.get(&format!("/static/{path}"), None).send().await.expect("get");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap_or("").to_string();
        let want = if path.ends_with(".js") {
            "text/javascript"
        } else if path.ends_with(".css") {
            "text/css"
        } else if path.ends_with(".html") {
            "text/html"
        } else {
            "text/plain"
        };
        assert!(ct.starts_with(want), "{path}: {ct}");
        assert_eq!(&r.text().await.expect("body"), body, "{path}");
    }
    for path in [
        "/static/index.html",
        "/static/css/main.css",
        "/static/js/app.js",
        "/static/js/services/api.js",
        "/static/js/components/accordion.js",
    ] {
        assert_eq!(s.get(path, None).send().await.expect("get").status().as_u16(), 200, "{path}");
    }
    // The page is a module graph: every relative import names an embedded file.
    for (path, body) in patientgen_server::routes::ui::FILES.iter().filter(|(p, _)| p.ends_with(".js")) {
        let targets = body.split("from ").skip(1).filter_map(|rest| {
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            rest[1..].split(quote).next().filter(|t| t.starts_with('.'))
        });
        for target in targets {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
            for seg in target.split('/') {
                match seg {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    other => parts.push(other),
                }
            }
            let resolved = parts.join("/");
            assert!(
                patientgen_server::routes::ui::FILES.iter().any(|(p, _)| *p == resolved),
                "{path} imports {target} ({resolved}), which is not embedded"
            );
        }
    }
    s.stop().await;
}
