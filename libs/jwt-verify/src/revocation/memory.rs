//! In-process revocation sources and combinators.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Answer, BoxFuture, RevocationSource, RevocationUnavailable, TokenRef};

/// Accepts every token as unrevoked: signature-only validation. Use it only where a
/// deployment deliberately has no revocation feed; it never reports unavailability.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRevocation;

impl RevocationSource for NoRevocation {
    fn token_version<'a>(&'a self, _user_id: &'a str) -> BoxFuture<'a, Answer<u64>> {
        Box::pin(std::future::ready(Ok(0)))
    }

    fn is_jti_revoked<'a>(&'a self, _jti: &'a str) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(std::future::ready(Ok(false)))
    }

    fn is_revoked_now(&self, _token: TokenRef<'_>) -> Option<Answer<bool>> {
        Some(Ok(false))
    }

    fn is_revoked<'a>(&'a self, _token: TokenRef<'a>) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(std::future::ready(Ok(false)))
    }
}

/// A fixed, in-memory map of token versions and revoked ids (tests, simple deployments).
/// It can be switched "unavailable" to exercise the fail-closed path.
#[derive(Debug, Default)]
pub struct StaticRevocation {
    state: RwLock<State>,
    unavailable: AtomicBool,
}

#[derive(Debug, Default)]
struct State {
    versions: HashMap<String, u64>,
    revoked: HashSet<String>,
}

impl StaticRevocation {
    /// An empty source: every user at version 0, nothing revoked.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a user's current token version.
    pub fn set_token_version(&self, user_id: &str, version: u64) {
        if let Ok(mut st) = self.state.write() {
            st.versions.insert(user_id.to_owned(), version);
        }
    }

    /// Marks an access-token id as revoked.
    pub fn revoke_jti(&self, jti: &str) {
        if let Ok(mut st) = self.state.write() {
            st.revoked.insert(jti.to_owned());
        }
    }

    /// Makes every lookup fail with [`RevocationUnavailable`] (or answer again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> Answer<T> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(RevocationUnavailable("static source switched off".into()));
        }
        let st = self
            .state
            .read()
            .map_err(|_| RevocationUnavailable("revocation map lock poisoned".into()))?;
        Ok(f(&st))
    }

    fn revoked_now(&self, t: TokenRef<'_>) -> Answer<bool> {
        self.read(|st| {
            t.revocable_ids().any(|id| st.revoked.contains(id))
                || t.token_version < st.versions.get(t.user_id).copied().unwrap_or(0)
        })
    }
}

impl RevocationSource for StaticRevocation {
    fn token_version<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Answer<u64>> {
        let answer = self.read(|st| st.versions.get(user_id).copied().unwrap_or(0));
        Box::pin(std::future::ready(answer))
    }

    fn is_jti_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(std::future::ready(self.read(|st| st.revoked.contains(jti))))
    }

    fn is_revoked_now(&self, token: TokenRef<'_>) -> Option<Answer<bool>> {
        Some(self.revoked_now(token))
    }

    fn is_revoked<'a>(&'a self, token: TokenRef<'a>) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(std::future::ready(self.revoked_now(token)))
    }
}

/// Asks `primary`; only when it is unavailable, asks `secondary` (e.g. the NATS watcher,
/// then Redis). When both are unavailable the error of `secondary` is returned.
#[derive(Debug)]
pub struct Fallback<A, B> {
    /// The source asked first.
    pub primary: A,
    /// The source asked when `primary` cannot answer.
    pub secondary: B,
}

impl<A, B> Fallback<A, B> {
    /// Combines two sources.
    pub const fn new(primary: A, secondary: B) -> Self {
        Self { primary, secondary }
    }
}

impl<A: RevocationSource, B: RevocationSource> RevocationSource for Fallback<A, B> {
    fn token_version<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Answer<u64>> {
        Box::pin(async move {
            match self.primary.token_version(user_id).await {
                Ok(v) => Ok(v),
                Err(_) => self.secondary.token_version(user_id).await,
            }
        })
    }

    fn is_jti_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(async move {
            match self.primary.is_jti_revoked(jti).await {
                Ok(v) => Ok(v),
                Err(_) => self.secondary.is_jti_revoked(jti).await,
            }
        })
    }

    fn is_revoked_now(&self, token: TokenRef<'_>) -> Option<Answer<bool>> {
        match self.primary.is_revoked_now(token)? {
            Ok(v) => Some(Ok(v)),
            Err(_) => self.secondary.is_revoked_now(token),
        }
    }

    fn is_revoked<'a>(&'a self, token: TokenRef<'a>) -> BoxFuture<'a, Answer<bool>> {
        Box::pin(async move {
            match self.primary.is_revoked(token).await {
                Ok(v) => Ok(v),
                Err(_) => self.secondary.is_revoked(token).await,
            }
        })
    }
}
