//! Claim sets of the four token kinds, exactly as contract §3 puts them on the wire.
//!
//! The same structs serve the verifying side (this crate) and the issuing side (which signs
//! them with `jsonwebtoken::encode`). Optional claims are plain `String`/`bool`/`u64` values
//! that are omitted from the JSON when empty, `false` or `0`, as the contract's table says.

use serde::{Deserialize, Serialize};

use crate::serde_util::{audience, is_false, is_zero, null_as_empty};

/// Value of the `token_type` claim of access and service tokens.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    /// A user access token (`"access"`, contract §3.1).
    Access,
    /// A machine-to-machine service token (`"service"`, contract §3.2).
    Service,
}

impl TokenType {
    /// The claim value as it appears on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Service => "service",
        }
    }
}

/// User access token claims (contract §3.1), signed HS256 with `JWT_ACCESS_SECRET`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer, `JWT_ISSUER` (default `ven-auth`).
    pub iss: String,
    /// Subject: the user's UUID.
    pub sub: String,
    /// Audiences (`JWT_AUDIENCE` list); always an array on the wire.
    #[serde(with = "audience")]
    pub aud: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Not-before, unix seconds (equal to `iat`).
    pub nbf: i64,
    /// Issued-at, unix seconds.
    pub iat: i64,
    /// Random token id (UUID); logout revokes the presented token by this id (§9.15).
    pub jti: String,
    /// The user's UUID (same as `sub`).
    pub uid: String,
    /// The user's email address.
    pub email: String,
    /// First name; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub first_name: String,
    /// Last name; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_name: String,
    /// Display name; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Organization UUID; only in org-scoped tokens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org_id: String,
    /// Organization slug; only in org-scoped tokens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org_slug: String,
    /// Organization name; only in org-scoped tokens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org_name: String,
    /// Role codes; always serialized (`[]` when none), `null` or absent reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<String>,
    /// Permission codes (`resource:action` or `org:…`); same encoding as `roles`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub permissions: Vec<String>,
    /// Always [`TokenType::Access`] in a valid access token.
    pub token_type: TokenType,
    /// Sessions-row UUID (drives `is_current`).
    #[serde(default)]
    pub session_id: String,
    /// Whether the login asked to be remembered; omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub remember_me: bool,
    /// Authentication provider: `local`, `google`, …
    #[serde(default)]
    pub auth_provider: String,
    /// Per-user token version captured at issue; omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tv: u64,
    /// App UUID; omitted in base-user mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_id: String,
    /// App code; omitted in base-user mode. Consumers compare it to their own code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_code: String,
    /// The user's home pool; omitted (empty) for `default`, see [`AccessClaims::pool`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Acting admin's user id; only under impersonation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub imp_uid: String,
    /// Acting admin's email; only under impersonation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub imp_email: String,
}

impl AccessClaims {
    /// The user's pool: `namespace`, or `"default"` when the claim is absent.
    #[must_use]
    pub fn pool(&self) -> &str {
        if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    /// Whether this token was issued to an admin impersonating the user.
    #[must_use]
    pub fn is_impersonation(&self) -> bool {
        !self.imp_uid.is_empty()
    }

    /// Whether the token carries the given role code.
    #[must_use]
    pub fn has_role(&self, code: &str) -> bool {
        self.roles.iter().any(|r| r == code)
    }

    /// Whether the token carries the given permission code (exact match).
    #[must_use]
    pub fn has_permission(&self, code: &str) -> bool {
        self.permissions.iter().any(|p| p == code)
    }
}

/// Machine-to-machine service token claims (contract §3.2), signed like access tokens.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ServiceClaims {
    /// Issuer, `JWT_ISSUER`.
    pub iss: String,
    /// Subject: the `client_id`.
    pub sub: String,
    /// Audiences; always an array on the wire.
    #[serde(with = "audience")]
    pub aud: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Not-before, unix seconds.
    pub nbf: i64,
    /// Issued-at, unix seconds.
    pub iat: i64,
    /// Random token id.
    pub jti: String,
    /// Always [`TokenType::Service`] in a valid service token.
    pub token_type: TokenType,
    /// The m2m client's id.
    pub client_id: String,
    /// The m2m client's `name`.
    #[serde(default)]
    pub service_name: String,
    /// Granted scopes (e.g. `permissions:register`).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub scopes: Vec<String>,
    /// Always empty for service tokens; kept for wire compatibility.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub roles: Vec<String>,
    /// Always empty for service tokens; kept for wire compatibility.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub permissions: Vec<String>,
}

impl ServiceClaims {
    /// Whether the token was granted the given scope (exact match).
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Refresh token claims (contract §3.3), signed HS256 with `JWT_REFRESH_SECRET`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RefreshClaims {
    /// Issuer, `JWT_ISSUER`.
    pub iss: String,
    /// Subject: the user's UUID.
    pub sub: String,
    /// Audiences (same as the access token); always an array on the wire.
    #[serde(with = "audience")]
    pub aud: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Not-before, unix seconds.
    pub nbf: i64,
    /// Issued-at, unix seconds.
    pub iat: i64,
    /// Token id (= stored row id).
    pub jti: String,
    /// The user's UUID.
    pub uid: String,
    /// Organization UUID; omitted when not org-scoped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org_id: String,
    /// Stored row id, used for lookup.
    pub tid: String,
    /// Whether the login asked to be remembered; omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub remember_me: bool,
    /// App code re-applied on refresh; omitted in base-user mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_code: String,
}

/// The purpose of a single-use purpose token (contract §3.4).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// `password_reset`: audience `<iss>:reset`, 1 h.
    PasswordReset,
    /// `email_verification`: audience `<iss>:verify`, 24 h.
    EmailVerification,
}

impl Purpose {
    /// The claim value as it appears on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }

    /// The audience of tokens of this purpose for an issuer: `<iss>:reset` or `<iss>:verify`.
    #[must_use]
    pub fn audience(self, issuer: &str) -> String {
        let suffix = match self {
            Self::PasswordReset => "reset",
            Self::EmailVerification => "verify",
        };
        format!("{issuer}:{suffix}")
    }
}

/// Password-reset and email-verification token claims (contract §3.4).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PurposeClaims {
    /// Issuer, `JWT_ISSUER`.
    pub iss: String,
    /// Subject: the user's UUID.
    pub sub: String,
    /// `["<iss>:reset"]` or `["<iss>:verify"]`; always an array on the wire.
    #[serde(with = "audience")]
    pub aud: Vec<String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Not-before, unix seconds; the contract's purpose tokens omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued-at, unix seconds.
    pub iat: i64,
    /// Token id (= the `password_reset_tokens` / `email_verification_tokens` row id).
    pub jti: String,
    /// The user's UUID.
    pub uid: String,
    /// The user's email address.
    pub email: String,
    /// What the token may be used for.
    pub purpose: Purpose,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_access_claims_are_omitted_when_empty() {
        let c = AccessClaims {
            iss: "ven-auth".into(),
            sub: "u".into(),
            aud: vec!["ven-platform".into()],
            exp: 2,
            nbf: 1,
            iat: 1,
            jti: "j".into(),
            uid: "u".into(),
            email: "e@x".into(),
            first_name: String::new(),
            last_name: String::new(),
            display_name: String::new(),
            org_id: String::new(),
            org_slug: String::new(),
            org_name: String::new(),
            roles: vec![],
            permissions: vec![],
            token_type: TokenType::Access,
            session_id: "s".into(),
            remember_me: false,
            auth_provider: "local".into(),
            tv: 0,
            app_id: String::new(),
            app_code: String::new(),
            namespace: String::new(),
            imp_uid: String::new(),
            imp_email: String::new(),
        };
        let v = serde_json::to_value(&c).unwrap_or_default();
        let keys: Vec<&str> = v
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected = vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "nbf",
            "iat",
            "jti",
            "uid",
            "email",
            "roles",
            "permissions",
            "token_type",
            "session_id",
            "auth_provider",
        ];
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(v["aud"], serde_json::json!(["ven-platform"]));
        assert_eq!(v["token_type"], "access");
    }

    #[test]
    fn purpose_audiences() {
        assert_eq!(
            Purpose::PasswordReset.audience("ven-auth"),
            "ven-auth:reset"
        );
        assert_eq!(
            Purpose::EmailVerification.audience("ven-auth"),
            "ven-auth:verify"
        );
    }
}
