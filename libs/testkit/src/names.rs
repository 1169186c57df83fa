//! Random names that keep parallel tests apart on shared Redis and NATS servers.

/// `<tag>_<12 random hex digits>`, with every character of `tag` outside `[A-Za-z0-9_-]`
/// replaced by `_`, so the result is valid as a Redis key prefix, a NATS subject token and a
/// JetStream stream or bucket name.
pub fn unique_prefix(tag: &str) -> String {
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{tag}_{}", &random[..12])
}
