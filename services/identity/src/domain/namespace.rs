//! Pool (namespace) names: 1-100 characters of `[A-Za-z0-9._-]`.

/// Longest pool name (`users.namespace` is `varchar(100)`).
pub const MAX_LEN: usize = 100;

/// A checked pool name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    /// Trims and checks `raw`; `None` when it is not a pool name.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim();
        let ok = !name.is_empty()
            && name.len() <= MAX_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| Self(name.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Namespace;

    #[test]
    fn names() {
        assert_eq!(
            Namespace::parse(" shop-eu.v2_1 ").map(|n| n.0),
            Some("shop-eu.v2_1".to_owned())
        );
        for bad in ["", " ", "a b", "x/y", "ü", "a;drop", &"a".repeat(101)] {
            assert!(Namespace::parse(bad).is_none(), "{bad:?}");
        }
    }
}
