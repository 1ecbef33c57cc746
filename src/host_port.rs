//! `host:port` as every text the crate prints shows it: an IPv6 host in brackets (`[::1]:514`),
//! as URLs and the syslog `address` field write it, so the port is never read as part of the
//! host.

use std::fmt::{self, Display};

/// `host:port`, with an IPv6 host in brackets.
pub(crate) struct HostPort<'a>(pub(crate) &'a str, pub(crate) u16);

impl Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let HostPort(host, port) = *self;
        // A host with a colon can only be an IPv6 address (already bracketed or not).
        if host.contains(':') && !host.starts_with('[') {
            write!(f, "[{host}]:{port}")
        } else {
            write!(f, "{host}:{port}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_is_bracketed_and_a_name_or_ipv4_is_not() {
        assert_eq!(HostPort("::1", 514).to_string(), "[::1]:514");
        assert_eq!(HostPort("[::1]", 514).to_string(), "[::1]:514");
        assert_eq!(
            HostPort("fe80::1%eth0", 25).to_string(),
            "[fe80::1%eth0]:25"
        );
        assert_eq!(HostPort("127.0.0.1", 601).to_string(), "127.0.0.1:601");
        assert_eq!(
            HostPort("mail.example.com", 25).to_string(),
            "mail.example.com:25"
        );
    }
}
