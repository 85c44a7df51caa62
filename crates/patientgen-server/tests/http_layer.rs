//! Requests the HTTP library refuses before the application sees them
//! (issue #7.8), sent as raw bytes over TCP: each answer is the JSON envelope.

mod common;

use common::{Db, start};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `request` and reads the answer until the server closes (at most 10 s).
async fn raw(url: &str, request: &[u8]) -> (u16, String, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server neither answered nor closed within 10 s");
    let text = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn assert_envelope(what: &str, status: u16, expected: u16, head: &str, body: &str, error: &str) {
    assert_eq!(status, expected, "{what}: {head}\n{body}");
    assert!(head.contains("content-type: application/json"), "{what}: {head}");
    assert!(head.contains(&format!("content-length: {}", body.len())), "{what}: {head}");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: body {body:?}: {e}"));
    assert_eq!(v["error"], error, "{what}: {v}");
    assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {v}");
    assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{what}: {v}");
    assert!(
        v["request_id"].as_str().is_some_and(|id| head.contains(&format!("x-request-id: {id}"))),
        "{what}"
    );
}

#[tokio::test]
async fn rejections_of_the_http_library_carry_the_envelope() {
    let s = start(Db::Sqlite, |_| {}).await;

    let mut many = String::from("GET /health HTTP/1.1\r\nHost: x\r\n");
    for i in 0..120 {
        many.push_str(&format!("X-Header-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    let (status, head, body) = raw(&s.url, many.as_bytes()).await;
    assert_envelope("120 headers", status, 431, &head, &body, "Request Header Fields Too Large");

    let huge = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(500_000));
    let (status, head, body) = raw(&s.url, huge.as_bytes()).await;
    assert_envelope("500 kB header", status, 431, &head, &body, "Request Header Fields Too Large");

    let long = format!("GET /api/v1/jobs/{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let (status, head, body) = raw(&s.url, long.as_bytes()).await;
    assert_envelope("70 kB target", status, 414, &head, &body, "URI Too Long");

    for (what, request) in [
        (
            "letters in Content-Length",
            "POST /api/v1/generation/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}",
        ),
        (
            "two Content-Lengths",
            "POST /api/v1/generation/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        ),
        ("a header without a colon", "GET /health HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n"),
        ("a bad request line", "GET /health HTTP/9.9 nonsense\r\nHost: x\r\n\r\n"),
        ("NUL in a header value", "GET /health HTTP/1.1\r\nHost: x\r\nX-API-Key: a\0b\r\n\r\n"),
    ] {
        let (status, head, body) = raw(&s.url, request.as_bytes()).await;
        assert_envelope(what, status, 400, &head, &body, "Bad Request");
    }

    // A request the library accepts still reaches the application.
    let (status, head, _) =
        raw(&s.url, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 200, "{head}");
    s.stop().await;
}
