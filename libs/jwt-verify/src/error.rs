//! Errors of token verification and their contract codes.

use std::fmt;

/// Why a token was refused as invalid. For logs and tests only: clients always see
/// `TOKEN_INVALID`, and no variant carries any part of the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not three base64url segments, too long, empty, or not UTF-8.
    Malformed,
    /// The JOSE header is unreadable, names an algorithm other than `HS256`, or carries a
    /// key-selection parameter (`kid`, `jku`, `jwk`, `x5u`, `x5c`) or `crit`.
    Header,
    /// The signature matched neither the active nor the previous secret.
    Signature,
    /// The payload is not a JSON object of the expected claim set (wrong types, missing
    /// claims, duplicate keys, trailing bytes).
    Claims,
    /// `token_type` (or `purpose`) names another kind of token.
    TokenType,
    /// `iss` differs from the configured issuer.
    Issuer,
    /// `aud` does not contain the accepted audience.
    Audience,
    /// `nbf` lies in the future beyond the leeway.
    NotYetValid,
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed token",
            Self::Header => "unacceptable header",
            Self::Signature => "bad signature",
            Self::Claims => "bad claims",
            Self::TokenType => "wrong token type",
            Self::Issuer => "foreign issuer",
            Self::Audience => "foreign audience",
            Self::NotYetValid => "not yet valid",
        })
    }
}

/// The revocation source could not answer (backend down, or its feed older than allowed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("revocation state unavailable: {0}")]
pub struct RevocationUnavailable(pub String);

/// Why a bearer token was not accepted.
///
/// Status mapping: every variant is a 401 with `WWW-Authenticate: Bearer` except
/// [`VerifyError::RevocationUnavailable`], which is a 503 `SERVICE_UNAVAILABLE`: the
/// token may well be good, but we cannot prove it was not revoked, so we fail closed
/// without telling the client its token is bad (it should retry, not log in again).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header (or an empty one).
    #[error("missing authorization token")]
    Missing,
    /// The token is not one we issued for this audience and purpose.
    #[error("invalid token: {0}")]
    Invalid(InvalidReason),
    /// The token was valid but `exp` (plus leeway) has passed.
    #[error("token expired")]
    Expired,
    /// The token was revoked: its `tv` is behind the user's version, or its `jti` was revoked.
    #[error("token revoked")]
    Revoked,
    /// Revocation state could not be read; the token is refused (fail closed).
    #[error(transparent)]
    RevocationUnavailable(#[from] RevocationUnavailable),
}

impl VerifyError {
    /// The contract error code (API.md §4.2).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Missing => "UNAUTHORIZED",
            Self::Invalid(_) => "TOKEN_INVALID",
            Self::Expired => "TOKEN_EXPIRED",
            Self::Revoked => "TOKEN_REVOKED",
            Self::RevocationUnavailable(_) => "SERVICE_UNAVAILABLE",
        }
    }

    /// The HTTP status to answer with: 401, or 503 for [`VerifyError::RevocationUnavailable`].
    #[must_use]
    pub const fn http_status(&self) -> u16 {
        match self {
            Self::RevocationUnavailable(_) => 503,
            _ => 401,
        }
    }

    /// A human message safe to show to the client (never contains token material).
    #[must_use]
    pub const fn public_message(&self) -> &'static str {
        match self {
            Self::Missing => "Missing authorization token",
            Self::Invalid(_) => "Invalid token",
            Self::Expired => "Token has expired",
            Self::Revoked => "Token has been revoked",
            Self::RevocationUnavailable(_) => {
                "Token revocation state is temporarily unavailable. Please retry."
            }
        }
    }
}

impl From<InvalidReason> for VerifyError {
    fn from(r: InvalidReason) -> Self {
        Self::Invalid(r)
    }
}
