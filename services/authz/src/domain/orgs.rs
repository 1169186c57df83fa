//! Organisation rules (contract §2.9, §2.10): slugs, statuses, paging, sorting and the
//! formats of organisation fields, custom role codes and invitee emails.

use super::FieldError;

/// Longest slug kept (`organizations.slug` is `varchar(255)`).
pub const MAX_SLUG_LEN: usize = 100;

/// Membership statuses (`organization_members.status`).
pub const MEMBER_STATUSES: [&str; 4] = ["pending", "active", "suspended", "removed"];

/// Organisation statuses a listing may filter on (deleted organisations are never listed).
pub const ORG_STATUSES: [&str; 3] = ["pending", "active", "suspended"];

/// Invitation statuses.
pub const INVITATION_STATUSES: [&str; 5] =
    ["pending", "accepted", "declined", "expired", "revoked"];

/// Default page size of every organisation listing.
pub const DEFAULT_PAGE_SIZE: i64 = 25;
/// Largest page size.
pub const MAX_PAGE_SIZE: i64 = 100;

/// The slug of an organisation name: lower-case ASCII letters and digits, runs of anything
/// else become one hyphen, no leading or trailing hyphen; `None` when nothing is left.
#[must_use]
pub fn slugify(name: &str) -> Option<String> {
    let mut slug = String::new();
    let mut pending_hyphen = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            pending_hyphen = !slug.is_empty();
            continue;
        }
        if slug.len() + usize::from(pending_hyphen) >= MAX_SLUG_LEN {
            break;
        }
        if pending_hyphen {
            slug.push('-');
            pending_hyphen = false;
        }
        slug.push(c.to_ascii_lowercase());
    }
    (!slug.is_empty()).then_some(slug)
}

/// A page request: `page` from 1, `page_size` 1..=[`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number.
    pub page: i64,
    /// Rows per page.
    pub page_size: i64,
}

impl Page {
    /// Parses the query values (defaults 1 and [`DEFAULT_PAGE_SIZE`]).
    pub fn parse(page: Option<i64>, page_size: Option<i64>) -> Result<Self, FieldError> {
        let page = page.unwrap_or(1);
        let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=1_000_000).contains(&page) {
            return Err(("page", "page must be between 1 and 1000000"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(("page_size", "page_size must be between 1 and 100"));
        }
        Ok(Self { page, page_size })
    }

    /// Rows to skip.
    #[must_use]
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.page_size)
    }
}

/// An allow-listed `ORDER BY` of the organisation listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgSort {
    /// The column (one of the allow-list, safe to splice into SQL).
    pub column: &'static str,
    /// Descending.
    pub desc: bool,
}

/// Columns `sort_by` may name.
pub const ORG_SORT_COLUMNS: [&str; 5] = ["created_at", "updated_at", "name", "slug", "status"];

impl OrgSort {
    /// Parses `sort_by` (default `created_at`) and `sort_order` (`ASC`/`DESC`, any case,
    /// default `DESC`).
    pub fn parse(sort_by: Option<&str>, sort_order: Option<&str>) -> Result<Self, FieldError> {
        let by = sort_by.map(str::trim).filter(|s| !s.is_empty());
        let column = match by {
            None => "created_at",
            Some(b) => ORG_SORT_COLUMNS
                .into_iter()
                .find(|c| c.eq_ignore_ascii_case(b))
                .ok_or((
                    "sort_by",
                    "sort_by must be one of created_at, updated_at, name, slug, status",
                ))?,
        };
        let desc = match sort_order.map(str::trim).filter(|s| !s.is_empty()) {
            None => true,
            Some(o) if o.eq_ignore_ascii_case("desc") => true,
            Some(o) if o.eq_ignore_ascii_case("asc") => false,
            Some(_) => return Err(("sort_order", "sort_order must be ASC or DESC")),
        };
        Ok(Self { column, desc })
    }
}

/// An optional status filter that must be one of `allowed`.
pub fn status_filter(raw: Option<&str>, allowed: &[&str]) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if allowed.contains(&s) => Ok(Some(s.to_owned())),
        Some(_) => Err(("status", "unknown status")),
    }
}

/// A text field of at most `max` characters.
pub fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.chars().count() > max {
        return Err((field, "is too long"));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err((field, "must not contain control characters"));
    }
    Ok(())
}

/// An organisation name: 1–255 characters after trimming, with a usable slug.
pub fn check_org_name(name: &str) -> Result<(String, String), FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(("name", "name is required"));
    }
    check_len("name", name, 255)?;
    let slug = slugify(name).ok_or(("name", "name needs at least one letter or digit"))?;
    Ok((name.to_owned(), slug))
}

/// A normalised email (trimmed, lower-cased): one `@`, non-empty local part, a dotted
/// domain, no spaces or control characters, at most 255 characters.
pub fn normalize_email(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let email = raw.trim().to_lowercase();
    let bad = (field, "must be a valid email address");
    if email.len() > 255 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(bad);
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || !domain_ok {
        return Err(bad);
    }
    Ok(email)
}

/// A custom role code: 1–100 of `[A-Za-z0-9._-]`.
pub fn check_role_code(code: &str) -> Result<(), FieldError> {
    let ok = (1..=100).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err((
            "code",
            "code must be 1 to 100 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// A custom role level: 0–10000 (informational, lower = more privileged).
pub fn check_level(level: i32) -> Result<(), FieldError> {
    if (0..=10_000).contains(&level) {
        Ok(())
    } else {
        Err(("level", "level must be between 0 and 10000"))
    }
}

/// Repeats dropped, first occurrence kept.
#[must_use]
pub fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs() {
        assert_eq!(
            slugify("  Acme  Trading, Inc. ").as_deref(),
            Some("acme-trading-inc")
        );
        assert_eq!(slugify("--A--b--").as_deref(), Some("a-b"));
        assert_eq!(slugify("Ünïcode Ltd").as_deref(), Some("n-code-ltd"));
        assert_eq!(slugify("日本"), None);
        assert_eq!(slugify(""), None);
        let long = "ab ".repeat(100);
        let s = slugify(&long).unwrap_or_default();
        assert!(s.len() <= MAX_SLUG_LEN && !s.ends_with('-'), "{s}");
    }

    #[test]
    fn paging_and_sorting() {
        assert_eq!(
            Page::parse(None, None),
            Ok(Page {
                page: 1,
                page_size: 25
            })
        );
        assert_eq!(Page::parse(Some(3), Some(10)).map(Page::offset), Ok(20));
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(None, Some(101)).is_err());
        assert!(Page::parse(None, Some(0)).is_err());
        let s = OrgSort::parse(Some("NAME"), Some("asc")).unwrap_or(OrgSort {
            column: "",
            desc: true,
        });
        assert_eq!((s.column, s.desc), ("name", false));
        assert!(OrgSort::parse(Some("owner_id; drop table users"), None).is_err());
        assert!(OrgSort::parse(None, Some("sideways")).is_err());
        assert_eq!(
            OrgSort::parse(None, None).map(|s| (s.column, s.desc)),
            Ok(("created_at", true))
        );
    }

    #[test]
    fn emails_and_codes() {
        assert_eq!(
            normalize_email("email", " Bob@Example.COM "),
            Ok("bob@example.com".to_owned())
        );
        for bad in [
            "",
            "bob",
            "bob@",
            "@x.com",
            "bob@localhost",
            "a b@x.com",
            "a@x..com",
        ] {
            assert!(normalize_email("email", bad).is_err(), "{bad}");
        }
        assert!(check_role_code("warehouse_lead").is_ok());
        assert!(check_role_code("").is_err());
        assert!(check_role_code("two words").is_err());
        assert!(check_level(-1).is_err());
        assert!(status_filter(Some("active"), &MEMBER_STATUSES).is_ok());
        assert!(status_filter(Some("gone"), &MEMBER_STATUSES).is_err());
        assert_eq!(status_filter(Some(" "), &MEMBER_STATUSES), Ok(None));
        assert!(check_org_name("  ").is_err());
        assert!(check_org_name("!!!").is_err());
    }
}
