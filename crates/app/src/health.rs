//! `event-manager health`: asks the service listening on `BIND_ADDR` whether it is ready, with one
//! HTTP/1.1 request over a plain TCP connection, so that a container image needs no HTTP client
//! for its health check.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The probe asked: ready means the database answers too.
pub const PATH: &str = "/health/ready";

/// How long the whole check may take (connecting, asking and reading the answer's first line).
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Why the service does not count as healthy.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    /// `BIND_ADDR` names port 0: the service's port is not known ahead.
    #[error("BIND_ADDR {0} names no fixed port to ask")]
    NoPort(SocketAddr),
    /// Nothing accepted the connection.
    #[error("cannot connect to {0}")]
    Connect(SocketAddr, #[source] std::io::Error),
    /// The connection failed while asking or reading.
    #[error("GET http://{0}{PATH} failed")]
    Exchange(SocketAddr, #[source] std::io::Error),
    /// No answer within the time allowed.
    #[error("GET http://{0}{PATH}: no answer within {1:?}")]
    Timeout(SocketAddr, Duration),
    /// What answered does not speak HTTP.
    #[error("GET http://{0}{PATH}: the answer is not HTTP")]
    NotHttp(SocketAddr),
    /// The service answered, and not 200.
    #[error("GET http://{0}{PATH} answered {1}")]
    Status(SocketAddr, String),
}

/// Asks `GET /health/ready` of the service bound to `bind_addr` (on loopback when it is bound to
/// every address), within `timeout`.
///
/// # Errors
/// [`Unhealthy`] unless the answer is `200`.
pub fn check(bind_addr: SocketAddr, timeout: Duration) -> Result<(), Unhealthy> {
    if bind_addr.port() == 0 {
        return Err(Unhealthy::NoPort(bind_addr));
    }
    let addr = SocketAddr::new(
        match bind_addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        },
        bind_addr.port(),
    );
    let deadline = Instant::now() + timeout;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|error| match error.kind() {
            std::io::ErrorKind::TimedOut => Unhealthy::Timeout(addr, timeout),
            _ => Unhealthy::Connect(addr, error),
        })?;
    let line = status_line(&mut stream, addr, deadline).map_err(|error| match error.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            Unhealthy::Timeout(addr, timeout)
        }
        _ => Unhealthy::Exchange(addr, error),
    })?;
    // "HTTP/1.1 200 OK"
    let status = line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.split_once(' '))
        .map(|(_, status)| status.trim())
        .filter(|status| {
            status
                .get(..3)
                .is_some_and(|code| code.parse::<u16>().is_ok())
        })
        .ok_or(Unhealthy::NotHttp(addr))?;
    if status.starts_with("200") {
        Ok(())
    } else {
        Err(Unhealthy::Status(addr, status.to_owned()))
    }
}

/// Sends the request and reads the answer up to the end of its first line (at most 1 KiB).
fn status_line(
    stream: &mut TcpStream,
    addr: SocketAddr,
    deadline: Instant,
) -> std::io::Result<String> {
    // A timeout of zero is refused: past the deadline, the next read or write times out at once.
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    stream.set_write_timeout(Some(left()))?;
    stream.write_all(
        format!(
            "GET {PATH} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: event-manager-health\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0; 512];
    while !answer.contains(&b'\n') && answer.len() < 1024 {
        stream.set_read_timeout(Some(left()))?;
        match stream.read(&mut chunk)? {
            0 => break,
            read => answer.extend_from_slice(&chunk[..read]),
        }
    }
    let line = answer.split(|b| *b == b'\n').next().unwrap_or_default();
    Ok(String::from_utf8_lossy(line).trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// A server on loopback that answers one connection with `answer` (after reading the
    /// request's head), or, with `None`, accepts it and says nothing.
    fn serve_once(answer: Option<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            assert!(head.starts_with(b"GET /health/ready HTTP/1.1\r\n"));
            match answer {
                Some(answer) => {
                    let _ = stream.write_all(answer.as_bytes());
                }
                None => std::thread::sleep(Duration::from_secs(2)),
            }
        });
        addr
    }

    #[test]
    fn a_200_is_healthy_and_anything_else_is_named() {
        let ok = serve_once(Some("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
        check(ok, TIMEOUT).unwrap();
        let down = serve_once(Some("HTTP/1.1 503 Service Unavailable\r\n\r\n"));
        let error = check(down, TIMEOUT).unwrap_err().to_string();
        assert_eq!(
            error,
            format!("GET http://{down}/health/ready answered 503 Service Unavailable")
        );
        let other = serve_once(Some("SSH-2.0-OpenSSH\r\n"));
        assert!(matches!(check(other, TIMEOUT), Err(Unhealthy::NotHttp(_))));
    }

    #[test]
    fn silence_is_a_timeout_and_a_closed_port_refuses() {
        let silent = serve_once(None);
        let started = Instant::now();
        let error = check(silent, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(error, Unhealthy::Timeout(..)), "{error}");
        assert!(started.elapsed() < Duration::from_secs(1));

        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = check(closed, TIMEOUT).unwrap_err();
        assert!(matches!(error, Unhealthy::Connect(..)), "{error}");
    }

    #[test]
    fn every_address_is_asked_on_loopback_and_port_0_has_nothing_to_ask() {
        let ok = serve_once(Some("HTTP/1.0 200 OK\r\n\r\n"));
        check(SocketAddr::from(([0, 0, 0, 0], ok.port())), TIMEOUT).unwrap();
        assert!(matches!(
            check("0.0.0.0:0".parse().unwrap(), TIMEOUT),
            Err(Unhealthy::NoPort(_))
        ));
    }
}
