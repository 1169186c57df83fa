//! Organisation slugs: lower-case ASCII letters and digits joined by single hyphens.

/// Longest slug kept (`organizations.slug` is `varchar(255)`).
const MAX_SLUG_LEN: usize = 100;

/// The slug of an organisation name; `None` when nothing usable is left.
#[must_use]
pub fn slugify(name: &str) -> Option<String> {
    let mut slug = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !slug.is_empty() {
                slug.push('-');
            }
            gap = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
        if slug.len() >= MAX_SLUG_LEN {
            break;
        }
    }
    (!slug.is_empty()).then_some(slug)
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn names_become_slugs() {
        assert_eq!(
            slugify("  Acme  Trading, Inc. ").as_deref(),
            Some("acme-trading-inc")
        );
        assert_eq!(
            slugify("Robert'); DROP TABLE--").as_deref(),
            Some("robert-drop-table")
        );
        assert_eq!(slugify("日本"), None);
    }
}
