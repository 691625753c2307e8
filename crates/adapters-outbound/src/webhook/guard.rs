//! The SSRF guard (docs/security.md, "Webhooks and SSRF"): under
//! [`DestinationPolicy::PublicOnly`] a delivery connects only to public addresses.
//!
//! The check sits where the addresses are used, not beside it. A name is resolved by
//! [`PublicResolver`], the resolver reqwest connects with, which hands it only the public addresses
//! it found: there is no earlier look-up whose answer DNS could change before the connection
//! (time-of-check/time-of-use, DNS rebinding). reqwest does not resolve a host that is an IP
//! address, so [`target`] checks those before the request; and non-`https` URLs are refused,
//! whatever the URL stored when the webhook was made (the policy may have changed since).

use std::net::{IpAddr, SocketAddr};

use domain::webhooks::ports::DestinationRefused;
use domain::webhooks::{is_public, DestinationPolicy, WebhookUrl};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a destination is refused, in the words stored with the attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refusal {
    /// The stored URL does not parse, or has no host.
    #[error("the URL is not valid")]
    Invalid,
    /// Not `https` under [`DestinationPolicy::PublicOnly`].
    #[error("only https URLs are allowed")]
    NotHttps,
    /// Neither `http` nor `https`.
    #[error("only http and https URLs are supported")]
    Scheme,
    /// The host is an IP address that is not public.
    #[error("the host is an address that is not public")]
    NotPublicAddress,
    /// The host name resolves to addresses that are not public: all of them (at delivery), or
    /// one of them (when checking a new webhook).
    #[error("the host resolves to an address that is not public")]
    ResolvesNotPublic,
    /// The host name does not resolve (within [`LOOKUP_TIMEOUT`]).
    #[error("the host name does not resolve")]
    Unresolvable,
    /// The port is not one of those webhooks may use (`WEBHOOK_ALLOWED_PORTS`).
    #[error("the port is not one webhooks may use")]
    Port,
    /// [`MAX_LOOKUPS`] look-ups are under way already.
    #[error("too many host names are being looked up at once")]
    Busy,
}

impl Refusal {
    /// The port's coarser reason: anything the policy forbids is "not public".
    pub(super) fn as_port_refusal(self) -> DestinationRefused {
        match self {
            Self::Invalid | Self::Unresolvable => DestinationRefused::Unresolvable,
            Self::Busy => DestinationRefused::Busy,
            Self::Port => DestinationRefused::PortNotAllowed,
            Self::NotHttps | Self::Scheme | Self::NotPublicAddress | Self::ResolvesNotPublic => {
                DestinationRefused::NotPublic
            }
        }
    }
}

/// Where a URL points, as far as the guard cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// An IP address, checked already.
    Ip(IpAddr),
    /// A name, to be resolved.
    Name {
        /// The host name (IDNA-encoded by the URL parser).
        host: String,
        /// The URL's port, or its scheme's.
        port: u16,
    },
}

/// The URL's target if the policy allows its scheme and port (under
/// [`DestinationPolicy::PublicOnly`], one of `ports`: otherwise the service would knock on any
/// port of any host for whoever registers a webhook) and, for an IP address, the address itself.
pub(super) fn target(
    url: &WebhookUrl,
    policy: DestinationPolicy,
    ports: &[u16],
) -> Result<Target, Refusal> {
    let parsed = url::Url::parse(url.as_str()).map_err(|_| Refusal::Invalid)?;
    match (parsed.scheme(), policy) {
        ("https", _) | ("http", DestinationPolicy::AllowPrivate) => {}
        ("http", DestinationPolicy::PublicOnly) => return Err(Refusal::NotHttps),
        _ => return Err(Refusal::Scheme),
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let port_allowed = policy == DestinationPolicy::AllowPrivate || ports.contains(&port);
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        // A name's port is checked before anything looks the name up.
        Some(url::Host::Domain(name)) if !name.is_empty() => {
            return if port_allowed {
                Ok(Target::Name {
                    host: name.to_owned(),
                    port,
                })
            } else {
                Err(Refusal::Port)
            };
        }
        Some(url::Host::Domain(_)) | None => return Err(Refusal::Invalid),
    };
    // An address: what it is says more than its port.
    if policy == DestinationPolicy::PublicOnly && !is_public(ip) {
        return Err(Refusal::NotPublicAddress);
    }
    if !port_allowed {
        return Err(Refusal::Port);
    }
    Ok(Target::Ip(ip))
}

/// The most look-ups under way at once in the process, creating webhooks and delivering together.
pub(super) const MAX_LOOKUPS: usize = 16;

/// The longest a look-up is waited for.
pub(super) const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Look-ups under way: each holds a permit until the system's resolver returns, even after its
/// caller stopped waiting, so that names that never answer cannot pile up blocking threads.
static LOOKUPS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_LOOKUPS);

/// Resolves `host` with the system's resolver on tokio's blocking pool, at most [`MAX_LOOKUPS`]
/// at a time (refused at once beyond that) and waited for at most [`LOOKUP_TIMEOUT`].
async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
    let permit = LOOKUPS.try_acquire().map_err(|_| Refusal::Busy)?;
    let host = host.to_owned();
    let resolving = tokio::task::spawn_blocking(move || {
        let _held = permit;
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map(Iterator::collect::<Vec<_>>)
    });
    let found = match tokio::time::timeout(LOOKUP_TIMEOUT, resolving).await {
        Ok(Ok(Ok(found))) => found,
        Ok(Ok(Err(_)) | Err(_)) | Err(_) => return Err(Refusal::Unresolvable),
    };
    if found.is_empty() {
        return Err(Refusal::Unresolvable);
    }
    Ok(found)
}

/// The public addresses among `found`, in their order; refused when none is.
fn keep_public(found: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refusal> {
    let public: Vec<SocketAddr> = found
        .into_iter()
        .filter(|addr| is_public(addr.ip()))
        .collect();
    if public.is_empty() {
        return Err(Refusal::ResolvesNotPublic);
    }
    Ok(public)
}

/// Refused unless every address is public.
fn all_public(found: &[SocketAddr]) -> Result<(), Refusal> {
    if found.iter().all(|addr| is_public(addr.ip())) {
        Ok(())
    } else {
        Err(Refusal::ResolvesNotPublic)
    }
}

/// Resolves `host` and refuses it unless it resolves, and only to public addresses: the check of
/// a new webhook.
pub(super) async fn check_every_address(host: &str, port: u16) -> Result<(), Refusal> {
    all_public(&lookup(host, port).await?)
}

/// The resolver of [`DestinationPolicy::PublicOnly`] clients: the system's answer, without the
/// addresses that are not public; an error when none is left, so that reqwest connects to nothing.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's (or the scheme's) port.
            let public = keep_public(lookup(&host, 0).await?)?;
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 0)
    }

    fn url(raw: &str) -> WebhookUrl {
        WebhookUrl::from_stored(raw.to_owned())
    }

    #[test]
    fn a_delivery_keeps_only_the_public_addresses_of_a_mixed_answer() {
        let mixed = vec![addr("10.0.0.1"), addr("93.184.215.14"), addr("::1")];
        assert_eq!(keep_public(mixed), Ok(vec![addr("93.184.215.14")]));
        let private = vec![
            addr("127.0.0.1"),
            addr("169.254.169.254"),
            addr("::ffff:10.1.2.3"),
        ];
        assert_eq!(keep_public(private), Err(Refusal::ResolvesNotPublic));
    }

    #[test]
    fn a_new_webhook_is_refused_when_any_address_is_not_public() {
        assert_eq!(
            all_public(&[addr("93.184.215.14"), addr("192.168.1.1")]),
            Err(Refusal::ResolvesNotPublic)
        );
        assert_eq!(
            all_public(&[
                addr("93.184.215.14"),
                addr("2606:2800:21f:cb07:6820:80da:af6b:8b2c")
            ]),
            Ok(())
        );
    }

    const PORTS: &[u16] = &[443, 8443];

    #[test]
    fn only_the_allowed_ports_are_targets_unless_private_destinations_are_allowed() {
        let public = DestinationPolicy::PublicOnly;
        for refused in [
            "https://93.184.215.14:22/",
            "https://hooks.example.com:6379/",
        ] {
            assert_eq!(
                target(&url(refused), public, PORTS),
                Err(Refusal::Port),
                "{refused}"
            );
        }
        assert!(target(&url("https://hooks.example.com:8443/"), public, PORTS).is_ok());
        assert!(target(&url("https://hooks.example.com:9443/"), public, &[9443]).is_ok());
        assert!(target(
            &url("http://127.0.0.1:6379/"),
            DestinationPolicy::AllowPrivate,
            PORTS
        )
        .is_ok());
        assert_eq!(
            Refusal::Port.as_port_refusal(),
            DestinationRefused::PortNotAllowed
        );
    }

    #[test]
    fn targets_follow_the_policy() {
        let public = DestinationPolicy::PublicOnly;
        let private = DestinationPolicy::AllowPrivate;
        assert_eq!(
            target(&url("https://hooks.example.com/in"), public, PORTS),
            Ok(Target::Name {
                host: "hooks.example.com".to_owned(),
                port: 443
            })
        );
        assert_eq!(
            target(&url("http://hooks.example.com:8080/in"), private, PORTS),
            Ok(Target::Name {
                host: "hooks.example.com".to_owned(),
                port: 8080
            })
        );
        assert_eq!(
            target(&url("http://hooks.example.com/in"), public, PORTS),
            Err(Refusal::NotHttps)
        );
        assert_eq!(
            target(&url("ftp://hooks.example.com/in"), private, PORTS),
            Err(Refusal::Scheme)
        );
        assert_eq!(
            target(&url("https://[::ffff:127.0.0.1]/"), public, PORTS),
            Err(Refusal::NotPublicAddress)
        );
        assert_eq!(
            target(&url("https://169.254.169.254/latest"), public, PORTS),
            Err(Refusal::NotPublicAddress)
        );
        assert_eq!(
            target(&url("https://169.254.169.254/latest"), private, PORTS),
            Ok(Target::Ip("169.254.169.254".parse().unwrap()))
        );
        assert_eq!(
            target(&url("https://93.184.215.14/"), public, PORTS),
            Ok(Target::Ip("93.184.215.14".parse().unwrap()))
        );
        assert_eq!(
            target(&url("not a url"), public, PORTS),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn refusals_map_to_the_ports_reasons() {
        assert_eq!(
            Refusal::NotHttps.as_port_refusal(),
            DestinationRefused::NotPublic
        );
        assert_eq!(
            Refusal::ResolvesNotPublic.as_port_refusal(),
            DestinationRefused::NotPublic
        );
        assert_eq!(
            Refusal::Unresolvable.as_port_refusal(),
            DestinationRefused::Unresolvable
        );
    }
}
