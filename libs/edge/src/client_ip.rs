//! The client address (contract §8, API-03): the peer, unless the peer is a trusted proxy,
//! then the right-most `X-Forwarded-For` entry that is not a trusted proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipnet::IpNet;
use poem::{FromRequest, Request, RequestBody, http::HeaderMap};

/// The resolved client IP, stored in request extensions by the edge.
///
/// A peer that is not an IP socket (a Unix socket, a test request) resolves to `0.0.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn parse_entry(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .or_else(|_| s.parse::<SocketAddr>().map(|a| a.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|n| n.contains(&ip))
}

/// Resolve the client IP from the peer address and the `X-Forwarded-For` headers.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let peer = peer
        .map(|ip| ip.to_canonical())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if !trusted(peer, proxies) {
        return peer;
    }
    // Several X-Forwarded-For headers are one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut last_trusted = peer;
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) if trusted(ip, proxies) => last_trusted = ip,
            Some(ip) => return ip,
            // Garbage left of trusted hops cannot be attributed: key on the last trusted hop.
            None => return last_trusted,
        }
    }
    last_trusted
}

/// Resolve for a poem request (peer from `RemoteAddr`).
pub(crate) fn resolve_request(req: &Request, proxies: &[IpNet]) -> IpAddr {
    let peer = req.remote_addr().as_socket_addr().map(SocketAddr::ip);
    resolve(peer, req.headers(), proxies)
}

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(req
            .extensions()
            .get::<ClientIp>()
            .copied()
            .unwrap_or_else(|| ClientIp(resolve_request(req, &[]))))
    }
}

/// The rate-limit key of an address: the IPv4 address, or the /64 of an IPv6 address (one
/// subscriber usually holds a whole /64, so per-address keys would not limit anything).
pub(crate) fn limiter_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", seg[0], seg[1], seg[2], seg[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        h
    }

    // API-03: the right-most untrusted entry wins; spoofed left entries are ignored.
    #[test]
    fn right_most_untrusted() {
        let p = nets(&["10.0.0.0/8"]);
        let peer = Some("10.0.0.1".parse().unwrap());
        let h = xff("6.6.6.6, 1.2.3.4, 10.0.0.2");
        assert_eq!(resolve(peer, &h, &p), "1.2.3.4".parse::<IpAddr>().unwrap());
        // Untrusted peer: its XFF is ignored.
        let peer = Some("8.8.8.8".parse().unwrap());
        assert_eq!(resolve(peer, &h, &p), "8.8.8.8".parse::<IpAddr>().unwrap());
        // No proxies configured: XFF ignored.
        let peer = Some("10.0.0.1".parse().unwrap());
        assert_eq!(
            resolve(peer, &h, &[]),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        // All trusted: the left-most.
        assert_eq!(
            resolve(peer, &xff("10.1.1.1, 10.0.0.2"), &p),
            "10.1.1.1".parse::<IpAddr>().unwrap()
        );
        // Mapped IPv6 peers and ports are normalised.
        let peer = Some("::ffff:10.0.0.1".parse().unwrap());
        assert_eq!(
            resolve(peer, &xff("1.2.3.4:5555"), &p),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ipv6_keys_by_slash_64() {
        let a = limiter_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = limiter_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(limiter_key("1.2.3.4".parse().unwrap()), "1.2.3.4");
    }
}
