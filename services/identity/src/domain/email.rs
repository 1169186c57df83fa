//! [`Email`]: a trimmed, lower-cased, plausibly shaped address (contract §5.1 step 1).

use std::fmt;

/// Longest stored address (`users.email` is `varchar(255)`).
pub const MAX_EMAIL_LEN: usize = 255;

/// A normalised email address: trimmed, lower-case, `local@domain.tld`, no whitespace or
/// control characters, at most [`MAX_EMAIL_LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Normalises and checks `raw`; `None` when it is not an address.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let email = normalise(raw);
        is_plausible(&email).then_some(Self(email))
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    #[must_use]
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trim and lower-case (the lookup key of login, even for strings that are not addresses).
#[must_use]
pub fn normalise(raw: &str) -> String {
    raw.trim().to_lowercase()
}

fn is_plausible(email: &str) -> bool {
    if email.is_empty() || email.len() > MAX_EMAIL_LEN {
        return false;
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
    {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// Whether `email`'s domain is allowed by an app's `allowed_email_domains` (empty = any;
/// entries compared case-insensitively, a leading `@` ignored).
#[must_use]
pub fn domain_allowed(email: &Email, allowed: &[String]) -> bool {
    allowed.is_empty()
        || allowed.iter().any(|d| {
            d.trim()
                .trim_start_matches('@')
                .eq_ignore_ascii_case(email.domain())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ann.Lee@Example.COM ").map(|e| e.0),
            Some("ann.lee@example.com".to_owned())
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "ann@.example.com",
            "ann@example..com",
            "a b@example.com",
            "ann@exa\nmple.com",
            "x' or 1=1 --@a",
            "<script>@x.y",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_none());
        assert!(Email::parse("jürgen@bücher.de").is_some());
    }

    #[test]
    fn domains_are_matched_case_insensitively() {
        let e = Email::parse("a@corp.example").expect("email");
        assert!(domain_allowed(&e, &[]));
        assert!(domain_allowed(&e, &["@Corp.Example".to_owned()]));
        assert!(!domain_allowed(&e, &["example".to_owned()]));
    }
}
