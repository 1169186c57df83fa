//! Permission-registry rules (contract §2.11, §6.2): what a service may register.

pub use super::FieldError;

/// The platform's own service; its slice is seeded, never registered.
pub const CORE: &str = "core";
/// Most permissions one registration may carry.
pub const MAX_PER_SERVICE: usize = 1000;

/// One permission to register, after checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPermission {
    /// `resource:action` (lower-case segments).
    pub code: String,
    /// Display name (defaults to the code).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Resource.
    pub resource: String,
    /// Action.
    pub action: String,
    /// Category.
    pub category: Option<String>,
}

/// A permission code: 3–100 characters, at least two `:`-separated segments of
/// `[a-z0-9_.*-]`, no empty segment (AZ-04: `users::read`, `USERS:READ`, `users:read ` are
/// refused rather than normalised).
pub fn check_code(code: &str) -> Result<(), FieldError> {
    let segments: Vec<&str> = code.split(':').collect();
    let ok = (3..=100).contains(&code.len())
        && segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'_' | b'.' | b'-' | b'*')
                })
        });
    if ok {
        Ok(())
    } else {
        Err((
            "permissions",
            "permission codes are lower-case `resource:action` (segments of a-z, 0-9, _ . - *)",
        ))
    }
}

/// The service name: 1–100 of `[a-z0-9_.-]`, never `core`.
pub fn check_service(service: &str) -> Result<(), FieldError> {
    if service == CORE {
        return Err(("service", "the core service is reserved"));
    }
    let ok = (1..=100).contains(&service.len())
        && service.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err((
            "service",
            "service must be 1 to 100 of a-z, 0-9, '_', '.', '-'",
        ))
    }
}

/// Checks one entry's lengths and fills the defaults.
pub fn check_entry(mut p: NewPermission) -> Result<NewPermission, FieldError> {
    check_code(&p.code)?;
    let bad = |s: &str, max: usize| s.trim().is_empty() || s.chars().count() > max;
    if bad(&p.resource, 100) || bad(&p.action, 50) {
        return Err((
            "permissions",
            "resource (≤100) and action (≤50) are required",
        ));
    }
    if p.name.trim().is_empty() {
        p.name.clone_from(&p.code);
    }
    if p.name.chars().count() > 200
        || p.category
            .as_deref()
            .is_some_and(|c| c.chars().count() > 100)
    {
        return Err((
            "permissions",
            "name must be ≤200 and category ≤100 characters",
        ));
    }
    Ok(p)
}

/// Checks the whole list: size and no repeated code.
pub fn check_list(list: Vec<NewPermission>) -> Result<Vec<NewPermission>, FieldError> {
    if list.len() > MAX_PER_SERVICE {
        return Err(("permissions", "at most 1000 permissions per service"));
    }
    let mut out: Vec<NewPermission> = Vec::with_capacity(list.len());
    for p in list {
        let p = check_entry(p)?;
        if out.iter().any(|q| q.code == p.code) {
            return Err(("permissions", "a permission code appears twice"));
        }
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(code: &str) -> NewPermission {
        NewPermission {
            code: code.to_owned(),
            name: String::new(),
            description: None,
            resource: "r".to_owned(),
            action: "a".to_owned(),
            category: None,
        }
    }

    #[test]
    fn codes_are_exact_az_04() {
        for ok in [
            "users:read",
            "org:members:invite",
            "items:*",
            "svc-a.v2:do_it",
        ] {
            assert!(check_code(ok).is_ok(), "{ok}");
        }
        for bad in [
            "users",
            "USERS:READ",
            "users::read",
            "users:read ",
            ":read",
            "users:",
            "usérs:read",
            "",
        ] {
            assert!(check_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn services_and_lists() {
        assert!(check_service("core").is_err());
        assert!(check_service("Billing").is_err());
        assert!(check_service("billing").is_ok());
        let list = check_list(vec![perm("a:b")]).expect("ok");
        assert_eq!(list[0].name, "a:b", "name defaults to the code");
        assert!(check_list(vec![perm("a:b"), perm("a:b")]).is_err());
    }
}
