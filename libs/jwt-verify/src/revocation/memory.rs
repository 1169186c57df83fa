//! In-process revocation sources and combinators.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{BoxFuture, RevocationSource, RevocationUnavailable, TokenRef};

/// Accepts every token as unrevoked: signature-only validation. Use it only where a
/// deployment deliberately has no revocation feed; it never reports unavailability.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRevocation;

impl RevocationSource for NoRevocation {
    fn token_version<'a>(
        &'a self,
        _user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(std::future::ready(Ok(0)))
    }

    fn is_jti_revoked<'a>(
        &'a self,
        _jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(Ok(false)))
    }

    fn is_revoked<'a>(
        &'a self,
        _token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(Ok(false)))
    }
}

/// A fixed, in-memory map of token versions and revoked ids (tests, simple deployments).
/// It can be switched "unavailable" to exercise the fail-closed path.
#[derive(Debug, Default)]
pub struct StaticRevocation {
    versions: RwLock<HashMap<String, u64>>,
    revoked: RwLock<HashSet<String>>,
    unavailable: AtomicBool,
}

impl StaticRevocation {
    /// An empty source: every user at version 0, nothing revoked.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a user's current token version.
    pub fn set_token_version(&self, user_id: &str, version: u64) {
        if let Ok(mut m) = self.versions.write() {
            m.insert(user_id.to_owned(), version);
        }
    }

    /// Marks an access-token id as revoked.
    pub fn revoke_jti(&self, jti: &str) {
        if let Ok(mut s) = self.revoked.write() {
            s.insert(jti.to_owned());
        }
    }

    /// Makes every lookup fail with [`RevocationUnavailable`] (or answer again).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    fn version_now(&self, user_id: &str) -> Result<u64, RevocationUnavailable> {
        self.gate()?;
        let m = self.versions.read().map_err(|_| poisoned())?;
        Ok(m.get(user_id).copied().unwrap_or(0))
    }

    fn jti_now(&self, jti: &str) -> Result<bool, RevocationUnavailable> {
        self.gate()?;
        let s = self.revoked.read().map_err(|_| poisoned())?;
        Ok(s.contains(jti))
    }

    fn gate(&self) -> Result<(), RevocationUnavailable> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(RevocationUnavailable("static source switched off".into()))
        } else {
            Ok(())
        }
    }
}

fn poisoned() -> RevocationUnavailable {
    RevocationUnavailable("revocation map lock poisoned".into())
}

impl RevocationSource for StaticRevocation {
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.version_now(user_id)))
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(std::future::ready(self.jti_now(jti)))
    }

    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        let answer = self
            .jti_now(token.jti)
            .and_then(|hit| Ok(hit || token.token_version < self.version_now(token.user_id)?));
        Box::pin(std::future::ready(answer))
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
    fn token_version<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, RevocationUnavailable>> {
        Box::pin(async move {
            match self.primary.token_version(user_id).await {
                Ok(v) => Ok(v),
                Err(_) => self.secondary.token_version(user_id).await,
            }
        })
    }

    fn is_jti_revoked<'a>(
        &'a self,
        jti: &'a str,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(async move {
            match self.primary.is_jti_revoked(jti).await {
                Ok(v) => Ok(v),
                Err(_) => self.secondary.is_jti_revoked(jti).await,
            }
        })
    }

    fn is_revoked<'a>(
        &'a self,
        token: TokenRef<'a>,
    ) -> BoxFuture<'a, Result<bool, RevocationUnavailable>> {
        Box::pin(async move {
            match self.primary.is_revoked(token).await {
                Ok(v) => Ok(v),
                Err(_) => self.secondary.is_revoked(token).await,
            }
        })
    }
}
