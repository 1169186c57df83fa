//! The redirect allowlist (§5.5, RED-01): `SSO_ALLOWED_REDIRECT_URLS` (empty = allow all;
//! the provider's own `SSO_<P>_REDIRECT_URL` is always allowed) and the app's
//! `allowed_redirect_urls` (empty = no extra limit). Entries match exactly, or as a prefix
//! when they end in `*`. The URL itself must be an absolute http(s) URL without userinfo.

use oauth2::url::Url;

fn matches(list: &[String], url: &str) -> bool {
    list.iter().any(|entry| match entry.strip_suffix('*') {
        Some(prefix) => url.starts_with(prefix),
        None => entry == url,
    })
}

/// Whether `url` may receive the provider's code.
#[must_use]
pub fn allowed(url: &str, global: &[String], provider_default: &str, app: &[String]) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    let shape_ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && !url.chars().any(|c| c.is_whitespace() || c == '\\');
    if !shape_ok {
        return false;
    }
    let global_ok = global.is_empty() || url == provider_default || matches(global, url);
    let app_ok = app.is_empty() || matches(app, url);
    global_ok && app_ok
}

#[cfg(test)]
mod tests {
    use super::allowed;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn red_01_exact_and_prefix() {
        let g = list(&["https://app.example/cb", "https://app.example/sso/*"]);
        assert!(allowed("https://app.example/cb", &g, "", &[]));
        assert!(allowed("https://app.example/sso/done", &g, "", &[]));
        assert!(!allowed("https://app.example/cb2", &g, "", &[]));
        assert!(!allowed("https://evil.test/cb", &g, "", &[]));
        assert!(!allowed(
            "https://app.example@evil.test/cb",
            &list(&[]),
            "",
            &[]
        ));
        assert!(!allowed("javascript:alert(1)", &list(&[]), "", &[]));
        assert!(!allowed("//evil.test", &list(&[]), "", &[]));
        assert!(!allowed("https://app.example/cb\n", &list(&[]), "", &[]));
    }

    #[test]
    fn app_list_narrows_and_default_passes() {
        let app = list(&["https://shop.example/*"]);
        assert!(allowed("https://shop.example/cb", &[], "", &app));
        assert!(!allowed("https://other.example/cb", &[], "", &app));
        let g = list(&["https://x.example/cb"]);
        assert!(allowed(
            "https://p.example/cb",
            &g,
            "https://p.example/cb",
            &[]
        ));
    }
}
