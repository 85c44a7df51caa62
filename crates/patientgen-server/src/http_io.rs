//! The envelope for requests the HTTP library itself refuses (issue #7.8).
//!
//! hyper answers a request it cannot parse — more than 100 headers or a head
//! over its buffer (431), a request target over 65,534 bytes (414), a bad
//! `Content-Length`, header or request line (400) — on its own, before any
//! middleware runs, with an empty body, and then closes the connection. It
//! has no hook for that response. So each accepted connection is wrapped:
//! a write that is exactly such an automatic response head (status 400, 414
//! or 431, `content-length: 0`, and no `x-request-id`, which every response
//! of the application carries) is replaced by the same status with the JSON
//! envelope and `connection: close`. Everything else passes through
//! untouched. What stays without the envelope is listed in docs/DECISIONS.md.

use crate::envelope::error_name;
use axum::http::StatusCode;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections give hyper's own rejections the envelope.
#[derive(Debug)]
pub struct EnvelopeListener(pub TcpListener);

impl axum::serve::Listener for EnvelopeListener {
    type Io = EnvelopeIo<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (EnvelopeIo { inner: io, pending: None }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection whose automatic error responses are rewritten.
#[derive(Debug)]
pub struct EnvelopeIo<T> {
    inner: T,
    /// The replacement being written, how much of it is written, and the
    /// length of the buffer it replaces (reported written once it is out).
    pending: Option<(Vec<u8>, usize, usize)>,
}

/// The status of `buf` if it is one of hyper's automatic error responses.
fn automatic_rejection(buf: &[u8]) -> Option<StatusCode> {
    if buf.len() > 512 || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(buf).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ").or_else(|| text.strip_prefix("HTTP/1.0 "))?;
    let status = match rest.get(..3)? {
        "400" => StatusCode::BAD_REQUEST,
        "414" => StatusCode::URI_TOO_LONG,
        "431" => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let head = text.to_ascii_lowercase();
    let automatic = head.contains("\r\ncontent-length: 0\r\n")
        && !head.contains("\r\nx-request-id:")
        && !head.contains("\r\ncontent-type:");
    automatic.then_some(status)
}

/// What the client is told for each automatic rejection.
fn detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::URI_TOO_LONG => "The request target is longer than the server accepts (65,534 bytes)",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "Too many request headers (more than 100), or the request head is too large"
        }
        _ => "Malformed HTTP request (request line, a header, or Content-Length)",
    }
}

/// The envelope response replacing hyper's empty one.
fn envelope_response(status: StatusCode) -> Vec<u8> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = crate::models::ErrorResponse {
        error: error_name(status).to_string(),
        detail: serde_json::Value::String(detail(status).to_string()),
        timestamp: crate::clock::rfc3339(chrono::Utc::now()),
        request_id: request_id.clone(),
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: {request_id}\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
    )
    .into_bytes()
}

impl<T: AsyncRead + Unpin> AsyncRead for EnvelopeIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EnvelopeIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match automatic_rejection(buf) {
                Some(status) => {
                    tracing::debug!(status = status.as_u16(), "request refused by the HTTP parser");
                    self.pending = Some((envelope_response(status), 0, buf.len()));
                }
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        let Some((bytes, written, replaces)) = this.pending.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while *written < bytes.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let replaced = *replaces;
        this.pending = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes a response head in one buffer, which is
    // what `automatic_rejection` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_heads_are_recognised() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Fri, 27 Nov 2026 17:00:00 GMT\r\n\r\n";
        assert_eq!(automatic_rejection(hyper), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: 1\r\n\r\n";
        assert_eq!(automatic_rejection(ours), None, "the application's responses carry x-request-id");
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(automatic_rejection(ok), None);
        let body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nmore";
        assert_eq!(automatic_rejection(body), None);
        let response = String::from_utf8(envelope_response(StatusCode::URI_TOO_LONG)).expect("utf-8");
        let (head, body) = response.split_once("\r\n\r\n").expect("head");
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["error"], "URI Too Long");
        assert!(v["detail"].as_str().is_some_and(|d| d.contains("request target")));
    }
}
