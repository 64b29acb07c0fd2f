//! Where providers come from: a `watch` channel of the current list (a registry feeds it; a fixed list
//! is a channel that never changes), read by the client without locks on the call path.

use std::sync::Arc;

use tokio::sync::watch;

/// One provider of a service.
#[derive(Clone, Debug, PartialEq)]
pub struct Provider {
    /// `host:port`.
    pub address: String,
    pub version: Option<String>,
    pub group: Option<String>,
    /// Reached over TLS: an `https://` provider of an HTTP service (never a Dubbo one).
    pub tls: bool,
}

impl Provider {
    /// Whether this provider may serve a call asking for `version`/`group`; `None` on either side
    /// matches anything (a provider listed by address alone serves every version).
    pub(crate) fn matches(&self, version: Option<&str>, group: Option<&str>) -> bool {
        fn same(wanted: Option<&str>, offered: Option<&str>) -> bool {
            match (wanted, offered) {
                (Some(wanted), Some(offered)) => wanted == offered,
                _ => true,
            }
        }
        same(version, self.version.as_deref()) && same(group, self.group.as_deref())
    }
}

/// The live list of providers for one service.
#[derive(Clone)]
pub struct ProviderSet {
    rx: watch::Receiver<Arc<Vec<Provider>>>,
}

impl ProviderSet {
    /// A list that never changes (providers from config).
    pub fn fixed(providers: Vec<Provider>) -> Self {
        // The sender is dropped at once: receivers keep the value, and a watcher sees the channel closed.
        let (_tx, rx) = watch::channel(Arc::new(providers));
        Self { rx }
    }

    /// A list fed by discovery; every value sent replaces the previous list.
    pub fn from_watch(rx: watch::Receiver<Arc<Vec<Provider>>>) -> Self {
        Self { rx }
    }

    pub fn current(&self) -> Arc<Vec<Provider>> {
        self.rx.borrow().clone()
    }

    pub(crate) fn receiver(&self) -> watch::Receiver<Arc<Vec<Provider>>> {
        self.rx.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(version: Option<&str>, group: Option<&str>) -> Provider {
        Provider {
            tls: false,
            address: "127.0.0.1:20880".into(),
            version: version.map(Into::into),
            group: group.map(Into::into),
        }
    }

    #[test]
    fn matching_treats_none_as_any() {
        let cases = [
            (provider(None, None), Some("1.0"), Some("g"), true),
            (provider(Some("1.0"), None), None, None, true),
            (provider(Some("1.0"), None), Some("1.0"), Some("g"), true),
            (provider(Some("1.0"), None), Some("2.0"), None, false),
            (provider(None, Some("a")), None, Some("b"), false),
            (
                provider(Some("1.0"), Some("a")),
                Some("1.0"),
                Some("a"),
                true,
            ),
        ];
        for (provider, version, group, expected) in cases {
            assert_eq!(
                provider.matches(version, group),
                expected,
                "{provider:?} {version:?} {group:?}"
            );
        }
    }

    #[test]
    fn watch_updates_are_seen() {
        let (tx, rx) = watch::channel(Arc::new(vec![]));
        let set = ProviderSet::from_watch(rx);
        assert!(set.current().is_empty());
        let _ = tx.send(Arc::new(vec![provider(None, None)]));
        assert_eq!(set.current().len(), 1);
        assert_eq!(
            ProviderSet::fixed(vec![provider(None, None)])
                .current()
                .len(),
            1
        );
    }
}
