//! The filter applied to every message copy that goes to the log.

/// Query parameters whose values are single-use secrets in our links.
const SECRET_PARAMS: [&str; 2] = ["token=", "code="];

/// `text` with the value of every `token=` / `code=` parameter replaced by `[redacted]`
/// (a value ends at whitespace, `&`, `"`, `'` or `>`).
#[must_use]
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, param)) = SECRET_PARAMS
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, *p)))
        .min_by_key(|(i, _)| *i)
    {
        let value_start = at + param.len();
        out.push_str(&rest[..value_start]);
        let tail = &rest[value_start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | '>'))
            .unwrap_or(tail.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_secrets;

    #[test]
    fn secrets_in_links_are_redacted() {
        assert_eq!(
            redact_secrets("go to https://a/x?token=abc.def&code=XY12 now\ncode=9"),
            "go to https://a/x?token=[redacted]&code=[redacted] now\ncode=[redacted]"
        );
        assert_eq!(redact_secrets("no secrets, token= "), "no secrets, token= ");
        assert_eq!(
            redact_secrets("ünïcode token=ä"),
            "ünïcode token=[redacted]"
        );
    }
}
