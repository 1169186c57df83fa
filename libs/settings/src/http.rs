//! [`HttpSettings`]: CORS origins, trusted proxies, CSRF.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::Secret;
use crate::reader::Env;

/// Cross-origin and proxy handling at the HTTP edge.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpSettings {
    /// `CORS_ORIGINS`: allowed origins; `*` allows any (refused in production).
    pub cors_origins: Vec<String>,
    /// `TRUSTED_PROXIES`: networks whose `X-Forwarded-For` is believed; a bare IP is a
    /// single-host network. Empty = ignore `X-Forwarded-For`.
    pub trusted_proxies: Vec<IpNet>,
    /// `CSRF_ENABLED`.
    pub csrf_enabled: bool,
    /// `CSRF_SECRET`.
    pub csrf_secret: Option<Secret>,
}

impl HttpSettings {
    pub(crate) fn load(env: &mut Env, production: bool) -> Self {
        let cors_origins = env.list("CORS_ORIGINS", &["*"]);
        if production && cors_origins.iter().any(|o| o == "*") {
            env.problem(
                "CORS_ORIGINS",
                "must list explicit origins when ENVIRONMENT=production (\"*\" is refused)",
            );
        }
        for origin in cors_origins.iter().filter(|o| *o != "*") {
            if !origin.contains("://") || origin.chars().any(char::is_whitespace) {
                let msg = format!(
                    "entries must be \"*\" or origins like https://app.example.com, got {origin:?}"
                );
                env.problem("CORS_ORIGINS", msg);
            }
        }
        let mut trusted_proxies = Vec::new();
        for entry in env.list("TRUSTED_PROXIES", &[]) {
            match parse_net(&entry) {
                Some(net) => trusted_proxies.push(net),
                None => {
                    let msg = format!(
                        "entries must be CIDRs (10.0.0.0/8) or IP addresses, got {entry:?}"
                    );
                    env.problem("TRUSTED_PROXIES", msg);
                }
            }
        }
        Self {
            cors_origins,
            trusted_proxies,
            csrf_enabled: env.flag("CSRF_ENABLED", true),
            csrf_secret: env.secret("CSRF_SECRET"),
        }
    }

    /// True when `ip` falls inside one of the trusted proxy networks.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// A CIDR, or a bare address taken as /32 (IPv4) or /128 (IPv6).
fn parse_net(entry: &str) -> Option<IpNet> {
    entry
        .parse::<IpNet>()
        .ok()
        .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests {
    use super::parse_net;

    #[test]
    fn bare_ips_are_single_hosts() {
        assert_eq!(parse_net("10.1.2.3").map(|n| n.prefix_len()), Some(32));
        assert_eq!(parse_net("::1").map(|n| n.prefix_len()), Some(128));
        assert_eq!(parse_net("10.0.0.0/8").map(|n| n.prefix_len()), Some(8));
        assert_eq!(parse_net("10.0.0.0/33"), None);
        assert_eq!(parse_net("not-an-ip"), None);
    }
}
