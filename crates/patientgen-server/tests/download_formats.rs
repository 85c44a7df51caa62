//! `GET /api/v1/downloads/{id}?format=…`: one of the job's files, byte for byte
//! the entry of its ZIP, on both backends.

mod common;

use common::{ADMIN, Db, start};
use serde_json::{Value, json};
use std::io::Read;

async fn zip_entries(s: &common::TestServer, job: &str) -> zip::ZipArchive<std::io::Cursor<Vec<u8>>> {
    let r = s.get(&format!("/api/v1/downloads/{job}"), Some(ADMIN)).send().await.expect("zip");
    assert_eq!(r.status().as_u16(), 200);
    let bytes = r.bytes().await.expect("body").to_vec();
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip")
}

fn entry(zip: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    zip.by_name(name).expect("entry").read_to_end(&mut out).expect("read");
    out
}

async fn each_format_is_its_zip_entry(db: Db) {
    let s = start(db, |_| {}).await;
    let body = json!({"configuration": {"name": "Formats", "total_patients": 120, "seed": 5},
        "output_formats": ["json", "csv", "ndjson", "fhir"]});
    let job = s.create_job(ADMIN, &body).await;
    assert_eq!(s.wait(ADMIN, &job).await["status"], "completed");
    let mut zip = zip_entries(&s, &job).await;
    for (format, name, content_type) in [
        ("csv", "patients.csv", "text/csv; charset=utf-8"),
        ("ndjson", "patients.ndjson", "application/x-ndjson"),
        ("fhir", "patients.fhir.ndjson", "application/fhir+ndjson"),
    ] {
        let r = s
            .get(&format!("/api/v1/downloads/{job}?format={format}"), Some(ADMIN))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 200, "{format}");
        assert_eq!(r.headers()["content-type"], content_type);
        let disposition = r.headers()["content-disposition"].to_str().unwrap_or("").to_string();
        assert!(disposition.contains("attachment") && disposition.contains(name), "{disposition}");
        let bytes = r.bytes().await.expect("body").to_vec();
        assert_eq!(bytes, entry(&mut zip, name), "{format}");
    }
    let ndjson = entry(&mut zip, "patients.ndjson");
    assert_eq!(String::from_utf8_lossy(&ndjson).lines().count(), 120);
    // ?format=zip is the ZIP; a format the job lacks is a 400; an unknown one a 422.
    let r = s.get(&format!("/api/v1/downloads/{job}?format=zip"), Some(ADMIN)).send().await.expect("zip");
    assert_eq!(r.headers()["content-type"], "application/zip");
    let r = s.get(&format!("/api/v1/downloads/{job}?format=xml"), Some(ADMIN)).send().await.expect("xml");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("envelope");
    assert!(v["detail"].as_str().is_some_and(|d| d.contains("XML")), "{v}");
    let r = s.get(&format!("/api/v1/downloads/{job}?format=pdf"), Some(ADMIN)).send().await.expect("pdf");
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.expect("envelope");
    assert!(v["detail"].as_str().is_some_and(|d| d.starts_with("query -> format:")), "{v}");
    // Another key cannot read it.
    let other = s.key("generate,read", Default::default()).await;
    let r = s.get(&format!("/api/v1/downloads/{job}?format=csv"), Some(&other)).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 404);
    s.stop().await;
}

#[tokio::test]
async fn each_format_is_its_zip_entry_sqlite() {
    each_format_is_its_zip_entry(Db::Sqlite).await;
}

#[tokio::test]
async fn each_format_is_its_zip_entry_postgres() {
    each_format_is_its_zip_entry(Db::Postgres).await;
}

#[tokio::test]
async fn compressed_jobs_give_the_gzip_file() {
    let s = start(Db::Sqlite, |_| {}).await;
    let body = json!({"configuration": {"total_patients": 30, "seed": 2},
        "output_formats": ["csv"], "use_compression": true});
    let job = s.create_job(ADMIN, &body).await;
    assert_eq!(s.wait(ADMIN, &job).await["status"], "completed");
    let r = s.get(&format!("/api/v1/downloads/{job}?format=csv"), Some(ADMIN)).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    assert!(r.headers()["content-disposition"].to_str().unwrap_or("").contains("patients.csv.gz"));
    let bytes = r.bytes().await.expect("body").to_vec();
    let mut csv = String::new();
    flate2::read::GzDecoder::new(bytes.as_slice()).read_to_string(&mut csv).expect("gzip");
    assert_eq!(csv.lines().count(), 31, "a header and 30 rows");
    s.stop().await;
}
