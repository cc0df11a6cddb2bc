//! The URIs a server hosts sessions at (its Conference-factory-URIs, IM
//! Group Identities and public conference URIs, all from its
//! configuration), numbered: a session keeps the number of the URI hosting
//! it, and so does each of its Participants' dialogs, so that a response
//! on the session's behalf finds its `P-Asserted-Identity` (7.2.1.1 step
//! 4) without reading the session.

use std::collections::HashMap;

use super::ServerConfig;

/// The configured hosting URIs, each with its `P-Asserted-Identity` value.
#[derive(Debug, Clone, Default)]
pub(super) struct Hosts {
    /// `<uri>`, by number.
    asserted: Vec<String>,
    /// The number of each URI, as configured.
    numbers: HashMap<String, u32>,
}

/// The number of no configured URI.
pub(super) const UNKNOWN_HOST: u32 = u32::MAX;

impl Hosts {
    /// The hosting URIs of `config`, numbered in the order it lists them.
    pub(super) fn of(config: &ServerConfig) -> Self {
        let mut hosts = Hosts::default();
        let uris = config
            .conference_factory_uris
            .iter()
            .chain(config.groups.iter().map(|g| &g.identity))
            .chain(config.public_conferences.iter());
        for uri in uris {
            let Ok(number) = u32::try_from(hosts.asserted.len()) else {
                break;
            };
            if number == UNKNOWN_HOST {
                break;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = hosts.numbers.entry(uri.clone()) {
                e.insert(number);
                hosts.asserted.push(["<", uri, ">"].concat());
            }
        }
        hosts
    }

    /// The number of the configured URI `uri`; [`UNKNOWN_HOST`] for any
    /// other.
    pub(super) fn number(&self, uri: &str) -> u32 {
        self.numbers.get(uri).copied().unwrap_or(UNKNOWN_HOST)
    }

    /// The `P-Asserted-Identity` value of host `number`, if it is one.
    pub(super) fn asserted(&self, number: u32) -> Option<&str> {
        self.asserted.get(number as usize).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configured_uri_has_a_number_and_its_asserted_identity() {
        let mut config = ServerConfig::new(
            "192.0.2.10:5060".parse().unwrap(),
            "192.0.2.1:5060".parse().unwrap(),
            "im.example.com",
        );
        config.conference_factory_uris = vec![
            "sip:conf@im.example.com".into(),
            "sip:conf@im.example.com".into(),
        ];
        config.public_conferences = vec!["sip:lobby@im.example.com".into()];
        let hosts = Hosts::of(&config);
        let factory = hosts.number("sip:conf@im.example.com");
        let lobby = hosts.number("sip:lobby@im.example.com");
        assert_eq!((factory, lobby), (0, 1), "a URI listed twice is one host");
        assert_eq!(hosts.asserted(lobby), Some("<sip:lobby@im.example.com>"));
        assert_eq!(hosts.number("sip:other@im.example.com"), UNKNOWN_HOST);
        assert_eq!(hosts.asserted(UNKNOWN_HOST), None);
    }
}
