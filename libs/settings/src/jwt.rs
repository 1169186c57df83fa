//! [`JwtSettings`]: HS256 secrets (contract §5.7 boot rules), lifetimes, issuer, audience.

use std::time::Duration;

use crate::Secret;
use crate::reader::Env;

/// Minimum secret length in characters (RFC 7518 §3.2 wants ≥ 256 bits of key).
pub const MIN_SECRET_CHARS: usize = 32;

/// Known-weak words (contract §5.7): a secret made only of these, repeated, is refused.
const WEAK_WORDS: [&str; 8] = [
    "secret",
    "changeme",
    "change-me",
    "changethis",
    "test",
    "password",
    "insecure",
    "default",
];

/// Placeholder fragments as found in `.env.example` files ("your-secret-key-change-in-
/// production"...); matched on the lower-cased value with separators removed.
const PLACEHOLDER_MARKERS: [&str; 11] = [
    "changeme",
    "changethis",
    "changeinprod",
    "replaceme",
    "replacethis",
    "placeholder",
    "yoursecret",
    "youraccess",
    "yourrefresh",
    "yourjwt",
    "generatewith",
];

/// Token signing and lifetimes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwtSettings {
    /// `JWT_ACCESS_SECRET`: signs access and service tokens (required).
    pub access_secret: Secret,
    /// `JWT_REFRESH_SECRET`: signs refresh tokens (required, ≠ access).
    pub refresh_secret: Secret,
    /// `JWT_ACCESS_SECRET_PREVIOUS`: still accepted on a signature mismatch during rotation.
    pub access_secret_previous: Option<Secret>,
    /// `JWT_REFRESH_SECRET_PREVIOUS`: likewise for refresh tokens.
    pub refresh_secret_previous: Option<Secret>,
    /// `JWT_ACCESS_EXPIRY`.
    pub access_expiry: Duration,
    /// `JWT_REFRESH_EXPIRY`.
    pub refresh_expiry: Duration,
    /// `JWT_REMEMBER_ME_EXPIRY`: refresh lifetime when the user ticks "remember me".
    pub remember_me_expiry: Duration,
    /// `JWT_ISSUER`: the `iss` claim.
    pub issuer: String,
    /// `JWT_AUDIENCE`: comma list; the first is put in tokens and required on validation.
    pub audience: Vec<String>,
}

impl JwtSettings {
    pub(crate) fn load(env: &mut Env) -> Self {
        let access_secret = required(env, "JWT_ACCESS_SECRET");
        let refresh_secret = required(env, "JWT_REFRESH_SECRET");
        if access_secret.char_len() > 0 && access_secret == refresh_secret {
            env.problem("JWT_REFRESH_SECRET", "must differ from JWT_ACCESS_SECRET");
        }
        let access_secret_previous = previous(
            env,
            "JWT_ACCESS_SECRET_PREVIOUS",
            "JWT_ACCESS_SECRET",
            &access_secret,
        );
        let refresh_secret_previous = previous(
            env,
            "JWT_REFRESH_SECRET_PREVIOUS",
            "JWT_REFRESH_SECRET",
            &refresh_secret,
        );
        let method = env.string("JWT_SIGNING_METHOD", "HS256");
        if method != "HS256" {
            env.problem(
                "JWT_SIGNING_METHOD",
                format!("must be HS256 (the only supported algorithm), got {method:?}"),
            );
        }
        let audience = env.list("JWT_AUDIENCE", &["ven-platform"]);
        if audience.is_empty() {
            env.problem("JWT_AUDIENCE", "must name at least one audience");
        }
        let hour = Duration::from_secs(3600);
        Self {
            access_expiry: env.positive_duration("JWT_ACCESS_EXPIRY", Duration::from_secs(900)),
            refresh_expiry: env.positive_duration("JWT_REFRESH_EXPIRY", 168 * hour),
            remember_me_expiry: env.positive_duration("JWT_REMEMBER_ME_EXPIRY", 720 * hour),
            issuer: env.string("JWT_ISSUER", "ven-auth"),
            audience,
            access_secret,
            refresh_secret,
            access_secret_previous,
            refresh_secret_previous,
        }
    }

    /// The audience written into tokens and required when validating (first of the list).
    pub fn primary_audience(&self) -> &str {
        self.audience.first().map_or("", String::as_str)
    }
}

/// Why a secret is unacceptable, or `None` when it passes the §5.7 checks.
pub fn secret_weakness(secret: &str) -> Option<String> {
    let len = secret.chars().count();
    if len < MIN_SECRET_CHARS {
        return Some(format!(
            "must be at least {MIN_SECRET_CHARS} characters, got {len}"
        ));
    }
    let lower = secret.to_ascii_lowercase();
    let squeezed: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    let only_weak_words = WEAK_WORDS
        .iter()
        .any(|w| is_repetition_of(&squeezed, &w.replace('-', "")));
    if squeezed.is_empty() || only_weak_words {
        return Some("is a known-weak value; generate one with `openssl rand -base64 48`".into());
    }
    if PLACEHOLDER_MARKERS.iter().any(|m| squeezed.contains(m)) {
        return Some(
            "looks like a placeholder from an example file; generate one with `openssl rand -base64 48`"
                .into(),
        );
    }
    None
}

/// True when `text` is `word` repeated one or more times.
fn is_repetition_of(text: &str, word: &str) -> bool {
    !word.is_empty()
        && !text.is_empty()
        && text.len().is_multiple_of(word.len())
        && text == word.repeat(text.len() / word.len())
}

fn required(env: &mut Env, var: &str) -> Secret {
    match env.secret(var) {
        None => {
            env.problem(var, "is required (at least 32 random characters)");
            Secret::new("")
        }
        Some(secret) => {
            if let Some(why) = secret_weakness(secret.expose()) {
                env.problem(var, why);
            }
            secret
        }
    }
}

fn previous(env: &mut Env, var: &str, active_var: &str, active: &Secret) -> Option<Secret> {
    let secret = env.secret(var)?;
    if let Some(why) = secret_weakness(secret.expose()) {
        env.problem(var, why);
    } else if &secret == active {
        env.problem(var, format!("must differ from {active_var}"));
    }
    Some(secret)
}

#[cfg(test)]
mod tests {
    use super::secret_weakness;

    #[test]
    fn weak_values_are_refused() {
        for weak in [
            "short",
            "secret",
            "SECRETSECRETSECRETSECRETSECRETSECRET",
            "change-me-change-me-change-me-change-me",
            "password_password_password_password",
            "test test test test test test test test",
            "your-super-secret-jwt-key-change-in-production",
            "CHANGE_THIS_to_a_long_random_string_please",
            "replace-me-with-openssl-rand-base64-48-output",
            "--------------------------------------",
        ] {
            assert!(secret_weakness(weak).is_some(), "{weak}");
        }
    }

    #[test]
    fn random_values_pass() {
        for good in [
            "p8Qz3xN1vL7kR2mW9sT4yB6cF0hJ5dGa",
            "Zx81uq+Hg3/Kq0Lr4V8mN2pS6tW1yA5c9D0fE7jB=",
            "testing-is-not-the-whole-value-9f8e7d6c5b4a",
        ] {
            assert_eq!(secret_weakness(good), None, "{good}");
        }
    }
}
