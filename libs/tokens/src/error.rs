//! Error types of the crate: claims assembly, signing, issuance.

/// Why claims could not be assembled for a (user, app, org) triple (contract §5.1 step 8).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The requested organization does not exist (or is soft-deleted).
    #[error("organization not found")]
    OrganizationNotFound,
    /// The requested organization exists but is not `active`.
    #[error("organization is suspended")]
    OrganizationSuspended,
    /// The user has no active membership in the requested organization.
    #[error("user is not a member of this organization")]
    NotOrganizationMember,
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl ClaimsError {
    /// The contract error code (§4.2) a service should answer with, `None` for internal errors.
    #[must_use]
    pub const fn code(&self) -> Option<&'static str> {
        match self {
            Self::OrganizationNotFound => Some("ORGANIZATION_NOT_FOUND"),
            Self::OrganizationSuspended => Some("ORGANIZATION_SUSPENDED"),
            Self::NotOrganizationMember => Some("NOT_ORGANIZATION_MEMBER"),
            Self::Database(_) => None,
        }
    }
}

/// A token could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// `jsonwebtoken` refused to encode the claims.
    #[error("cannot encode token: {0}")]
    Encode(#[from] jsonwebtoken::errors::Error),
    /// The clock (or clock plus lifetime) is outside the representable date range.
    #[error("clock value out of range")]
    ClockOutOfRange,
}

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("operating system random source failed")]
pub struct RandomError;

/// Issuing (or rotating into) a token pair failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The old refresh row was already consumed, revoked or expired, or its session was
    /// terminated: this caller lost the rotation (contract §5.2; answer `TOKEN_INVALID`, or run
    /// reuse detection after re-reading the row).
    #[error("refresh token already rotated, revoked or expired")]
    RotationLost,
    /// The rotated row belongs to a different family than the caller said (a caller bug);
    /// the caller must roll its transaction back.
    #[error("refresh token family mismatch")]
    FamilyMismatch,
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// No random bytes for the refresh secret.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}
