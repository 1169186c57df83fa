//! `X-Request-ID`: echoed when sane, generated otherwise.
//!
//! Generated ids keep the original's timestamp shape, `20060102150405.000000` (UTC, micro-
//! seconds), followed by `-` and 8 random hex digits so two requests in the same microsecond
//! (or on two replicas) never share an id: e.g. `20250301120000.123456-9f3a0c1e`.

use std::sync::{Arc, OnceLock};

use poem::{FromRequest, Request, RequestBody};

/// The header name.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id, stored in request extensions by the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the request-id layer leaves the id for the panic layer outside it.
#[derive(Clone, Default)]
pub(crate) struct RequestIdSlot(pub(crate) Arc<OnceLock<String>>);

/// An incoming id is kept when it is 1 to 128 visible ASCII characters.
pub fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A fresh id: UTC timestamp with microseconds, `-`, 8 random hex digits.
///
/// Formatted field by field and drawn from the thread-local CSPRNG: no format-string parsing
/// and no `getrandom` system call per request (this runs on every request without an id).
pub fn generate() -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write as _;
    let now = chrono::Utc::now();
    let mut id = String::with_capacity(30);
    let _ = write!(
        id,
        "{:04}{:02}{:02}{:02}{:02}{:02}.{:06}-{:08x}",
        now.year(),
        now.month(),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.timestamp_subsec_micros() % 1_000_000,
        rand::random::<u32>()
    );
    id
}

impl<'a> FromRequest<'a> for RequestId {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(generate())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_timestamp_shape_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        let (ts, rnd) = a.split_once('-').unwrap();
        assert_eq!(ts.len(), "20060102150405.000000".len());
        assert_eq!(ts.as_bytes()[14], b'.');
        assert!(
            ts.bytes()
                .enumerate()
                .all(|(i, c)| i == 14 || c.is_ascii_digit())
        );
        assert_eq!(rnd.len(), 8);
        assert!(is_sane(&a));
    }

    #[test]
    fn sanity_rules() {
        assert!(is_sane("abc-123"));
        assert!(!is_sane(""));
        assert!(!is_sane("has space"));
        assert!(!is_sane(&"x".repeat(129)));
        assert!(is_sane(&"x".repeat(128)));
        assert!(!is_sane("caf\u{e9}"));
    }
}
