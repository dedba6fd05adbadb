//! The client's address (sessions, the audit log, the per-IP limits): the
//! TCP peer's, unless the peer is a trusted proxy (`trusted_proxies`) and
//! `ip_header` names the header it puts the client's address in. A header
//! from anyone else is ignored: clients can't choose their own address.
//!
//! `ip_header` is Rocket's key, but Gatehouse gives it this meaning and
//! doesn't take Rocket's default (`X-Real-IP`): left out, no header is read.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use rocket::figment::value::Value;
use rocket::figment::Figment;

use super::error::{bad, ConfigError};

/// `trusted_proxies`' default: a proxy on the same host.
pub fn default_trusted_proxies() -> Vec<String> {
    vec!["127.0.0.1".into(), "::1".into()]
}

/// How the client's address is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress {
    /// The header a trusted proxy names the client in; `None`: the peer's
    /// address, always.
    pub header: Option<String>,
    /// The peers whose `header` is believed.
    pub trusted: Vec<IpNet>,
}

impl ClientAddress {
    /// The client's address, from the peer's (`None` for a request that has
    /// none, such as a local test client's) and, when the peer is trusted,
    /// the header's value. An `X-Forwarded-For`-style list is read from its
    /// right: the first address that isn't a trusted proxy is the client;
    /// an entry that is not an address ends the walk at the last trusted hop.
    pub fn resolve(&self, peer: Option<IpAddr>, header_value: Option<&str>) -> Option<IpAddr> {
        let peer = peer.map(|ip| ip.to_canonical())?;
        let (Some(_), Some(value)) = (&self.header, header_value) else {
            return Some(peer);
        };
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for entry in value.rsplit(',') {
            let entry = entry.trim();
            let parsed = entry
                .parse::<IpAddr>()
                .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()));
            let Ok(hop) = parsed.map(|ip| ip.to_canonical()) else {
                break;
            };
            client = hop;
            if !self.is_trusted(hop) {
                break;
            }
        }
        Some(client)
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }
}

/// The `ip_header` the operator set, if any: a value from Rocket's own
/// defaults (`X-Real-IP`, also when an app built its `rocket::Config` from
/// `..Default::default()`) doesn't count, and `false` turns it off.
pub(crate) fn configured_ip_header(figment: &Figment) -> Result<Option<String>, ConfigError> {
    if super::known::is_rockets_default(figment, "ip_header") {
        return Ok(None);
    }
    match figment.find_value("ip_header") {
        Err(_) | Ok(Value::Bool(_, false)) => Ok(None),
        Ok(Value::String(_, name)) if is_header_name(&name) => Ok(Some(name)),
        Ok(_) => Err(bad(
            "ip_header",
            "must be the name of the header a trusted proxy sets (such as \"X-Real-IP\"), or false",
        )),
    }
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks `trusted_proxies` (addresses or CIDR ranges).
pub(crate) fn check(header: Option<String>, trusted: &[String]) -> Result<ClientAddress, ConfigError> {
    let trusted = trusted
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let entry = entry.trim();
            entry
                .parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    bad(
                        &format!("trusted_proxies[{i}]"),
                        format!("`{entry}` is not an IP address or a CIDR range such as 10.0.0.0/8"),
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ClientAddress { header, trusted })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn behind(trusted: &[&str]) -> ClientAddress {
        let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
        check(Some("X-Forwarded-For".into()), &trusted).unwrap()
    }

    #[test]
    fn without_a_header_the_peer_is_the_client() {
        let direct = check(None, &default_trusted_proxies()).unwrap();
        assert_eq!(direct.resolve(ip("127.0.0.1"), Some("6.6.6.6")), ip("127.0.0.1"));
        assert_eq!(direct.resolve(None, Some("6.6.6.6")), None);
    }

    #[test]
    fn a_header_is_believed_from_trusted_peers_only() {
        let a = behind(&["127.0.0.1", "::1", "10.0.0.0/8"]);
        assert_eq!(a.resolve(ip("127.0.0.1"), Some("203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(a.resolve(ip("10.1.2.3"), Some("203.0.113.9")), ip("203.0.113.9"));
        // An IPv4 peer seen on an IPv6 socket is the same peer.
        assert_eq!(
            a.resolve(ip("::ffff:127.0.0.1"), Some("203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(
            a.resolve(ip("198.51.100.7"), Some("203.0.113.9")),
            ip("198.51.100.7")
        );
        assert_eq!(a.resolve(ip("127.0.0.1"), None), ip("127.0.0.1"));
    }

    #[test]
    fn a_list_is_read_from_the_right_up_to_the_first_untrusted_hop() {
        let a = behind(&["127.0.0.1", "10.0.0.0/8"]);
        // The client wrote 6.6.6.6 itself; the proxies added the rest.
        let list = "6.6.6.6, 203.0.113.9, 10.0.0.2";
        assert_eq!(a.resolve(ip("127.0.0.1"), Some(list)), ip("203.0.113.9"));
        // Garbage stops at the last trusted hop.
        assert_eq!(
            a.resolve(ip("127.0.0.1"), Some("nonsense, 10.0.0.2")),
            ip("10.0.0.2")
        );
        assert_eq!(a.resolve(ip("127.0.0.1"), Some("nonsense")), ip("127.0.0.1"));
        assert_eq!(
            a.resolve(ip("127.0.0.1"), Some("[2001:db8::1]:443")),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn bad_entries_name_their_key() {
        let err = check(None, &["10.0.0.0/8".into(), "10.0.0.0/33".into()]).unwrap_err();
        assert_eq!(err.key, "trusted_proxies[1]");
        assert!(check(None, &["10.1.2.3/8".into(), "2001:db8::/32".into()]).is_ok());
    }

    #[test]
    fn rockets_default_header_is_not_taken() {
        let rocket_only = Figment::from(rocket::Config::default());
        assert_eq!(configured_ip_header(&rocket_only).unwrap(), None);
        let set = rocket_only.clone().merge(("ip_header", "X-Real-IP"));
        assert_eq!(configured_ip_header(&set).unwrap().as_deref(), Some("X-Real-IP"));
        let off = rocket_only.clone().merge(("ip_header", false));
        assert_eq!(configured_ip_header(&off).unwrap(), None);
        let err = configured_ip_header(&rocket_only.merge(("ip_header", "X Real"))).unwrap_err();
        assert_eq!(err.key, "ip_header");
    }
}
