//! m2m client registration rules (contract §2.11, SECURITY M2M-05).

pub use super::FieldError;

/// Checks a new client's `client_id`: 3–100 characters of `[A-Za-z0-9._-]`, and not shaped
/// like a UUID (a user id) — with no `@` it can never be an email either (M2M-05).
pub fn check_client_id(client_id: &str) -> Result<(), FieldError> {
    const FIELD: &str = "client_id";
    if !(3..=100).contains(&client_id.len()) {
        return Err((FIELD, "client_id must be 3 to 100 characters"));
    }
    if !client_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err((
            FIELD,
            "client_id may contain only letters, digits, '.', '_' and '-'",
        ));
    }
    if uuid::Uuid::parse_str(client_id).is_ok() {
        return Err((FIELD, "client_id must not look like a user id"));
    }
    Ok(())
}

/// Checks `name` (1–200 characters, no control characters) and `description` (≤ 2000, no
/// control characters but line breaks and tabs). NUL in particular never reaches Postgres.
pub fn check_texts(name: &str, description: Option<&str>) -> Result<(), FieldError> {
    let name_len = name.trim().chars().count();
    if name_len == 0 || name.chars().count() > 200 {
        return Err((
            "name",
            "name is required and must be at most 200 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(("name", "name must not contain control characters"));
    }
    if let Some(d) = description {
        if d.chars().count() > 2000 {
            return Err(("description", "description must be at most 2000 characters"));
        }
        if d.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err((
                "description",
                "description must not contain control characters other than line breaks and tabs",
            ));
        }
    }
    Ok(())
}

/// Checks a list of scopes or audiences: each 1–200 visible ASCII characters without spaces
/// (scopes travel space-separated), at most 100 entries; repeats are dropped.
pub fn clean_words(field: &'static str, words: Vec<String>) -> Result<Vec<String>, FieldError> {
    if words.len() > 100 {
        return Err((field, "at most 100 entries"));
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        let ok = (1..=200).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err((
                field,
                "entries must be 1 to 200 visible characters without spaces",
            ));
        }
        if !out.contains(&w) {
            out.push(w);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        assert!(check_client_id("billing-svc.v2").is_ok());
        for bad in [
            "ab",
            &"x".repeat(101),
            "a b",
            "admin@example.com",
            "0b6f5f8e-8f5e-4c1e-9a51-3f2b3c4d5e6f",
        ] {
            assert!(check_client_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words() {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            clean_words("scopes", v(&["a:b", "a:b", "c"])),
            Ok(v(&["a:b", "c"]))
        );
        assert!(clean_words("scopes", v(&["a b"])).is_err());
        assert!(clean_words("scopes", v(&[""])).is_err());
        assert!(check_texts(" ", None).is_err());
        assert!(check_texts("n", Some(&"d".repeat(2001))).is_err());
        for bad in ["a\0b", "a\u{1b}[31m", "tab\there", "del\u{7f}", "c1\u{85}"] {
            assert_eq!(
                check_texts(bad, None).map_err(|e| e.0),
                Err("name"),
                "{bad:?}"
            );
            assert_eq!(
                check_texts("n", Some(&format!("x{bad}"))).map_err(|e| e.0),
                if bad.contains('\t') {
                    Ok(())
                } else {
                    Err("description")
                },
                "{bad:?}"
            );
        }
        assert!(check_texts("n", Some("line one\r\nline two\tend")).is_ok());
    }
}
