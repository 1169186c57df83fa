//! App rules (contract §2.11, §5.9): field formats of `POST`/`PATCH /admin/apps`.

use super::FieldError;

/// Auth methods an app may allow (password, magic link and the SSO providers of §9.1).
pub const AUTH_METHODS: [&str; 8] = [
    "password",
    "magic_link",
    "google",
    "apple",
    "microsoft",
    "github",
    "facebook",
    "linkedin",
];

/// App statuses.
pub const STATUSES: [&str; 3] = ["active", "inactive", "suspended"];

/// Webhook events an app may subscribe to.
pub const WEBHOOK_EVENTS: [&str; 1] = ["user.registered"];

/// An app, service or namespace code: 1–100 of `[A-Za-z0-9._-]`.
pub fn check_code(field: &'static str, code: &str) -> Result<(), FieldError> {
    let ok = (1..=100).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err((field, "must be 1 to 100 letters, digits, '.', '_' or '-'"))
    }
}

/// A list of codes ([`check_code`] each), repeats dropped.
pub fn check_codes(field: &'static str, codes: Vec<String>) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::with_capacity(codes.len());
    for c in codes {
        check_code(field, &c)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// An absolute `http(s)` URL without whitespace, ≤ 500 characters.
pub fn check_url(field: &'static str, url: &str) -> Result<(), FieldError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = url.len() <= 500
        && rest.is_some_and(|r| {
            let host = r.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !host.contains('@')
        })
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err((field, "must be an absolute http(s) URL"))
    }
}

/// Email domains: lower-cased, 1–253 characters of `[a-z0-9.-]` with a dot.
pub fn check_domains(domains: Vec<String>) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::with_capacity(domains.len());
    for d in domains {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        let ok = (1..=253).contains(&d.len())
            && d.contains('.')
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
        if !ok {
            return Err(("allowed_email_domains", "must be domain names"));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Auth methods from [`AUTH_METHODS`].
pub fn check_methods(methods: Vec<String>) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::with_capacity(methods.len());
    for m in methods {
        if !AUTH_METHODS.contains(&m.as_str()) {
            return Err((
                "allowed_auth_methods",
                "unknown auth method (password, magic_link, google, apple, microsoft, github, facebook, linkedin)",
            ));
        }
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// A name: 1–200 characters after trimming.
pub fn check_name(name: &str) -> Result<(), FieldError> {
    let n = name.trim().chars().count();
    if n == 0 || name.chars().count() > 200 {
        return Err((
            "name",
            "name is required and must be at most 200 characters",
        ));
    }
    Ok(())
}

/// A status from [`STATUSES`].
pub fn check_status(status: &str) -> Result<(), FieldError> {
    if STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(("status", "status must be active, inactive or suspended"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in ["https://app.example.com", "http://localhost:3000/cb?x=1"] {
            assert!(check_url("u", ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.test",
            "https://",
            "https://a b",
            "https://user@evil.test",
            "ftp://x",
        ] {
            assert!(check_url("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codes_domains_methods() {
        assert!(check_code("code", "my-app_1.v2").is_ok());
        assert!(check_code("code", "").is_err());
        assert!(check_code("code", "a b").is_err());
        assert_eq!(
            check_domains(vec!["@Example.COM".into(), "example.com".into()]),
            Ok(vec!["example.com".to_owned()])
        );
        assert!(check_domains(vec!["nodot".into()]).is_err());
        assert!(check_methods(vec!["password".into(), "google".into()]).is_ok());
        assert!(check_methods(vec!["telepathy".into()]).is_err());
        assert!(check_status("active").is_ok() && check_status("gone").is_err());
    }
}
