//! The tool only ever talks plain HTTP to this machine: `127.0.0.0/8`, `::1`,
//! or `localhost` when every address it resolves to is loopback.

use std::net::{IpAddr, ToSocketAddrs};
use url::{Host, Url};

/// Parses `s` and refuses anything but `http://` to a loopback address.
pub fn loopback_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("{s}: not a URL ({e})"))?;
    check(&url)?;
    Ok(url)
}

/// Refuses a URL that is not plain HTTP to a loopback address.
pub fn check(url: &Url) -> Result<(), String> {
    if url.scheme() != "http" {
        return Err(format!("{url}: only http:// to a loopback address is allowed"));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
            let addrs: Vec<IpAddr> = (name, port)
                .to_socket_addrs()
                .map_err(|e| format!("{url}: cannot resolve {name}: {e}"))?
                .map(|a| a.ip())
                .collect();
            !addrs.is_empty() && addrs.iter().all(IpAddr::is_loopback)
        }
        _ => false,
    };
    if loopback {
        Ok(())
    } else {
        Err(format!("{url}: refused: load is only sent to this machine (127.0.0.0/8, [::1] or localhost)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_pass() {
        for ok in ["http://127.0.0.1:8000", "http://127.1.2.3/", "http://[::1]:9/", "http://localhost:8000"] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "https://127.0.0.1:8000",
            "http://10.0.0.1:8000",
            "http://192.168.1.10/",
            "http://0.0.0.0:8000",
            "http://[::]:8000",
            "http://example.com/",
            "http://localhost.example.com/",
            "ftp://127.0.0.1/",
            "127.0.0.1:8000",
        ] {
            assert!(loopback_url(bad).is_err(), "{bad}");
        }
    }
}
