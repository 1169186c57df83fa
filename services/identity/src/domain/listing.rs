//! The admin user list's query rules (§2.10): pagination, the sort allow-list, status and
//! search text. Pure: parsed values or the field that is wrong.

/// Default page size.
pub const DEFAULT_PAGE_SIZE: i64 = 25;
/// Largest page size (larger requests are clamped).
pub const MAX_PAGE_SIZE: i64 = 100;
/// Longest search text.
pub const MAX_SEARCH_LEN: usize = 200;

/// A rejected query parameter: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam {
    /// The query parameter.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> BadParam {
    BadParam {
        field,
        message: message.into(),
    }
}

/// `LIMIT` and `OFFSET` of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Rows per page.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// `page` (1-based) and `page_size`, overridden by `limit` and `offset` when given. Sizes
/// above [`MAX_PAGE_SIZE`] are clamped; zero or negative values are refused.
pub fn window(
    page: Option<i64>,
    page_size: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<Window, BadParam> {
    let size = match (limit, page_size) {
        (Some(l), _) if l < 1 => return Err(bad("limit", "limit must be at least 1")),
        (Some(l), _) => l,
        (None, Some(s)) if s < 1 => return Err(bad("page_size", "page_size must be at least 1")),
        (None, Some(s)) => s,
        (None, None) => DEFAULT_PAGE_SIZE,
    }
    .min(MAX_PAGE_SIZE);
    let offset = match (offset, page) {
        (Some(o), _) if o < 0 => return Err(bad("offset", "offset must not be negative")),
        (Some(o), _) => o,
        (None, Some(p)) if p < 1 => return Err(bad("page", "page must be at least 1")),
        (None, Some(p)) => p.saturating_sub(1).saturating_mul(size),
        (None, None) => 0,
    };
    Ok(Window {
        limit: size,
        offset,
    })
}

/// A sortable column of the user list (the allow-list: nothing else reaches SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// `created_at` (default).
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
    /// `email`.
    Email,
    /// `first_name`.
    FirstName,
    /// `last_name`.
    LastName,
    /// `last_login_at`.
    LastLoginAt,
    /// `status`.
    Status,
}

impl SortColumn {
    /// The SQL column (a constant, never user text).
    #[must_use]
    pub fn sql(self) -> &'static str {
        match self {
            Self::CreatedAt => "u.created_at",
            Self::UpdatedAt => "u.updated_at",
            Self::Email => "lower(u.email)",
            Self::FirstName => "lower(u.first_name)",
            Self::LastName => "lower(u.last_name)",
            Self::LastLoginAt => "u.last_login_at",
            Self::Status => "u.status",
        }
    }
}

/// `sort_by` (default `created_at`) and `sort_order` (`ASC`/`DESC`, any case; default
/// `DESC`). Returns the column and whether the order is descending.
pub fn sort(by: Option<&str>, order: Option<&str>) -> Result<(SortColumn, bool), BadParam> {
    let column = match by.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("created_at") => SortColumn::CreatedAt,
        Some("updated_at") => SortColumn::UpdatedAt,
        Some("email") => SortColumn::Email,
        Some("first_name") => SortColumn::FirstName,
        Some("last_name") => SortColumn::LastName,
        Some("last_login_at") => SortColumn::LastLoginAt,
        Some("status") => SortColumn::Status,
        Some(_) => {
            return Err(bad(
                "sort_by",
                "sort_by must be one of created_at, updated_at, email, first_name, last_name, last_login_at, status",
            ));
        }
    };
    let desc = match order.map(|s| s.trim().to_ascii_uppercase()) {
        None => true,
        Some(o) if o.is_empty() || o == "DESC" => true,
        Some(o) if o == "ASC" => false,
        Some(_) => return Err(bad("sort_order", "sort_order must be ASC or DESC")),
    };
    Ok((column, desc))
}

/// A `status` filter: one of the four user states.
pub fn status(raw: Option<&str>) -> Result<Option<String>, BadParam> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s @ ("pending" | "active" | "suspended" | "deleted")) => Ok(Some(s.to_owned())),
        Some(_) => Err(bad(
            "status",
            "status must be pending, active, suspended or deleted",
        )),
    }
}

/// The search text as an `ILIKE` pattern (`%`, `_` and `\` escaped), or `None` when blank.
pub fn search_pattern(raw: Option<&str>) -> Result<Option<String>, BadParam> {
    let Some(text) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_LEN || text.contains('\0') {
        return Err(bad(
            "search",
            "search must be at most 200 characters of text",
        ));
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(Some(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_limits_and_offsets() {
        assert_eq!(
            window(None, None, None, None),
            Ok(Window {
                limit: 25,
                offset: 0
            })
        );
        assert_eq!(
            window(Some(3), Some(10), None, None),
            Ok(Window {
                limit: 10,
                offset: 20
            })
        );
        assert_eq!(
            window(Some(2), Some(1000), None, None),
            Ok(Window {
                limit: 100,
                offset: 100
            })
        );
        assert_eq!(
            window(Some(9), Some(10), Some(5), Some(7)),
            Ok(Window {
                limit: 5,
                offset: 7
            })
        );
        assert_eq!(
            window(Some(0), None, None, None).map_err(|e| e.field),
            Err("page")
        );
        assert_eq!(
            window(None, Some(0), None, None).map_err(|e| e.field),
            Err("page_size")
        );
        assert_eq!(
            window(None, None, Some(-1), None).map_err(|e| e.field),
            Err("limit")
        );
        assert_eq!(
            window(None, None, None, Some(-1)).map_err(|e| e.field),
            Err("offset")
        );
        assert!(window(Some(i64::MAX), Some(100), None, None).is_ok());
    }

    #[test]
    fn sort_is_allow_listed() {
        assert_eq!(sort(None, None), Ok((SortColumn::CreatedAt, true)));
        assert_eq!(
            sort(Some("email"), Some("asc")),
            Ok((SortColumn::Email, false))
        );
        for junk in ["password_hash", "email; drop table users", "1", "u.email"] {
            assert_eq!(sort(Some(junk), None).map_err(|e| e.field), Err("sort_by"));
        }
        assert_eq!(
            sort(None, Some("sideways")).map_err(|e| e.field),
            Err("sort_order")
        );
    }

    #[test]
    fn search_escapes_wildcards() {
        assert_eq!(search_pattern(Some(" ada ")), Ok(Some("%ada%".to_owned())));
        assert_eq!(
            search_pattern(Some("50%_\\")),
            Ok(Some("%50\\%\\_\\\\%".to_owned()))
        );
        assert_eq!(search_pattern(Some("  ")), Ok(None));
        assert!(search_pattern(Some(&"x".repeat(201))).is_err());
        assert_eq!(status(Some("bogus")).map_err(|e| e.field), Err("status"));
    }
}
