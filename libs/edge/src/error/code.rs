//! The error code catalogue of contract §4.2, each with its default status.

use std::fmt;

use poem::http::StatusCode;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal => $status:ident ),* $(,)?) => {
        /// Every error code of contract §4.2 (UPPER_SNAKE on the wire, §9.13).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The wire spelling, e.g. `"INVALID_INPUT"`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text,)* }
            }

            /// The status used when the caller does not choose another one.
            pub fn default_status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
        }
    };
}

codes! {
    /// Missing bearer, refresh token / caller mismatch.
    Unauthorized = "UNAUTHORIZED" => UNAUTHORIZED,
    /// Login failure, wrong current password.
    InvalidCredentials = "INVALID_CREDENTIALS" => UNAUTHORIZED,
    /// Expired access, refresh, reset or verify JWT.
    TokenExpired = "TOKEN_EXPIRED" => UNAUTHORIZED,
    /// Malformed, foreign or wrong-type token (400 for a bad PKCE auth_code).
    TokenInvalid = "TOKEN_INVALID" => UNAUTHORIZED,
    /// Blacklisted jti, stale token version, refresh reuse, idle timeout.
    TokenRevoked = "TOKEN_REVOKED" => UNAUTHORIZED,
    /// Defined, unused.
    SessionExpired = "SESSION_EXPIRED" => UNAUTHORIZED,
    /// Role or handler gates, org mismatch, app not authorized.
    Forbidden = "FORBIDDEN" => FORBIDDEN,
    /// Route role / permission middleware.
    InsufficientPermissions = "INSUFFICIENT_PERMISSIONS" => FORBIDDEN,
    /// Defined, unused (no status in the contract; 403 is our choice).
    RoleNotAssigned = "ROLE_NOT_ASSIGNED" => FORBIDDEN,
    /// No such user.
    UserNotFound = "USER_NOT_FOUND" => NOT_FOUND,
    /// Email already registered.
    UserAlreadyExists = "USER_ALREADY_EXISTS" => CONFLICT,
    /// Suspended or locked-out account.
    UserSuspended = "USER_SUSPENDED" => FORBIDDEN,
    /// Defined, unused (403 is our choice).
    UserDeleted = "USER_DELETED" => FORBIDDEN,
    /// Defined, unused (403 is our choice).
    EmailNotVerified = "EMAIL_NOT_VERIFIED" => FORBIDDEN,
    /// Defined, unused (400 is our choice).
    InvalidEmail = "INVALID_EMAIL" => BAD_REQUEST,
    /// Defined, unused; password policy uses VALIDATION_ERROR (400 is our choice).
    WeakPassword = "WEAK_PASSWORD" => BAD_REQUEST,
    /// No such organization.
    OrganizationNotFound = "ORGANIZATION_NOT_FOUND" => NOT_FOUND,
    /// Organization slug or name taken.
    OrganizationAlreadyExists = "ORGANIZATION_ALREADY_EXISTS" => CONFLICT,
    /// Organization suspended.
    OrganizationSuspended = "ORGANIZATION_SUSPENDED" => FORBIDDEN,
    /// Defined (403 is our choice).
    OrganizationDeleted = "ORGANIZATION_DELETED" => FORBIDDEN,
    /// Caller is not a member of the organization.
    NotOrganizationMember = "NOT_ORGANIZATION_MEMBER" => FORBIDDEN,
    /// No such invitation.
    InviteNotFound = "INVITE_NOT_FOUND" => NOT_FOUND,
    /// Invitation expired.
    InviteExpired = "INVITE_EXPIRED" => BAD_REQUEST,
    /// Invitation already accepted or declined.
    InviteAlreadyUsed = "INVITE_ALREADY_USED" => BAD_REQUEST,
    /// Defined (400 is our choice).
    InvalidInviteCode = "INVALID_INVITE_CODE" => BAD_REQUEST,
    /// No such role.
    RoleNotFound = "ROLE_NOT_FOUND" => NOT_FOUND,
    /// Defined (409 is our choice).
    RoleAlreadyExists = "ROLE_ALREADY_EXISTS" => CONFLICT,
    /// System roles are read-only.
    CannotModifySystemRole = "CANNOT_MODIFY_SYSTEM_ROLE" => FORBIDDEN,
    /// Upstream SSO provider failure.
    SsoProviderError = "SSO_PROVIDER_ERROR" => BAD_GATEWAY,
    /// Unknown or disabled SSO provider.
    SsoNotConfigured = "SSO_NOT_CONFIGURED" => BAD_REQUEST,
    /// Bad, expired or reused OAuth `state`.
    SsoTokenInvalid = "SSO_TOKEN_INVALID" => BAD_REQUEST,
    /// Validation failures (also 403 "app is not active", 413 body too large).
    ValidationError = "VALIDATION_ERROR" => BAD_REQUEST,
    /// Bad JSON, bad UUIDs, field problems (`details.field`).
    InvalidInput = "INVALID_INPUT" => BAD_REQUEST,
    /// A required field is missing.
    MissingRequiredField = "MISSING_REQUIRED_FIELD" => BAD_REQUEST,
    /// Legacy store accepts a password the internal store does not.
    LegacyMigrationConflict = "LEGACY_MIGRATION_CONFLICT" => CONFLICT,
    /// Generic not found (also unknown paths, our choice).
    NotFound = "NOT_FOUND" => NOT_FOUND,
    /// Generic conflict.
    Conflict = "CONFLICT" => CONFLICT,
    /// Untyped internal failure.
    InternalError = "INTERNAL_ERROR" => INTERNAL_SERVER_ERROR,
    /// Per-IP and per-account limits.
    RateLimited = "RATE_LIMITED" => TOO_MANY_REQUESTS,
    /// A dependency is down.
    ServiceUnavailable = "SERVICE_UNAVAILABLE" => SERVICE_UNAVAILABLE,
    /// [P] Wrong method on a known path (the original answered plain-text 405).
    MethodNotAllowed = "METHOD_NOT_ALLOWED" => METHOD_NOT_ALLOWED,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
