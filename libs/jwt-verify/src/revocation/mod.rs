//! Pluggable revocation: a user's token version (`tv`) and revoked access-token ids (§5.3,
//! §9.15).
//!
//! A source either answers or says it cannot ([`RevocationUnavailable`]); the verifier then
//! refuses the token (fail closed). No source ever turns "I don't know" into "accept".

use std::future::Future;
use std::pin::Pin;

pub use crate::error::RevocationUnavailable;

mod memory;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "redis")]
pub mod redis;

pub use memory::{Fallback, NoRevocation, StaticRevocation};

/// A boxed, sendable future (keeps [`RevocationSource`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source's answer, or why it has none.
pub type Answer<T> = Result<T, RevocationUnavailable>;

/// The revocation-relevant parts of an access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRef<'a> {
    /// The user's id (`uid`).
    pub user_id: &'a str,
    /// The token id (`jti`).
    pub jti: &'a str,
    /// The token version captured at issue (`tv`, 0 when absent).
    pub token_version: u64,
    /// The token's session (`session_id`, empty when absent). Ending a session revokes
    /// its id like a `jti`, which kills every access token issued in it (SES-02).
    pub session_id: &'a str,
}

impl TokenRef<'_> {
    /// The revoked-id keys this token answers to: its `jti`, and its session id when set.
    pub fn revocable_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.jti).chain((!self.session_id.is_empty()).then_some(self.session_id))
    }
}

/// Answers whether access tokens were revoked.
pub trait RevocationSource: Send + Sync + std::fmt::Debug {
    /// The user's current token version (0 when the user has none recorded).
    fn token_version<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Answer<u64>>;

    /// Whether the access token with this `jti` was revoked (logout, §9.15).
    fn is_jti_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Answer<bool>>;

    /// Answers [`RevocationSource::is_revoked`] without waiting when the source can (local
    /// maps); `None` means "ask the async method". The verifier tries this first.
    fn is_revoked_now(&self, _token: TokenRef<'_>) -> Option<Answer<bool>> {
        None
    }

    /// Whether the token is revoked: its `jti` or its session id was revoked, or its `tv` is
    /// below the user's current version. Sources may override this to answer in one round
    /// trip.
    fn is_revoked<'a>(&'a self, token: TokenRef<'a>) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(async move {
            for id in token.revocable_ids() {
                if self.is_jti_revoked(id).await? {
                    return Ok(true);
                }
            }
            Ok(token.token_version < self.token_version(token.user_id).await?)
        })
    }
}

impl<T: RevocationSource + ?Sized> RevocationSource for std::sync::Arc<T> {
    fn token_version<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Answer<u64>> {
        (**self).token_version(user_id)
    }

    fn is_jti_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Answer<bool>> {
        (**self).is_jti_revoked(jti)
    }

    fn is_revoked_now(&self, token: TokenRef<'_>) -> Option<Answer<bool>> {
        (**self).is_revoked_now(token)
    }

    fn is_revoked<'a>(&'a self, token: TokenRef<'a>) -> BoxFuture<'a, Answer<bool>> {
        (**self).is_revoked(token)
    }
}
