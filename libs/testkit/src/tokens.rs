//! Access tokens for tests, signed with the test secret the way the platform signs them
//! (contract §3.1), independently of the issuing code under test.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::process::TEST_ACCESS_SECRET;

/// What a test access token says; `Default` is a base user of the default pool.
#[derive(Debug, Clone)]
pub struct TestClaims {
    /// `uid` / `sub`.
    pub user_id: Uuid,
    /// `email`.
    pub email: String,
    /// `roles`.
    pub roles: Vec<String>,
    /// `permissions`.
    pub permissions: Vec<String>,
    /// `org_id`, when org-scoped.
    pub org_id: Option<Uuid>,
    /// `tv` (omitted when 0).
    pub tv: u64,
    /// Seconds until `exp` (negative for an expired token).
    pub expires_in: i64,
}

impl Default for TestClaims {
    fn default() -> Self {
        Self {
            user_id: Uuid::new_v4(),
            email: "user@example.com".to_owned(),
            roles: vec!["base_user".to_owned()],
            permissions: Vec::new(),
            org_id: None,
            tv: 0,
            expires_in: 600,
        }
    }
}

impl TestClaims {
    /// A token for `user_id` holding `roles`.
    pub fn user(user_id: Uuid, roles: &[&str]) -> Self {
        Self {
            user_id,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// The claims as JSON.
    pub fn to_json(&self) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": "ven-auth", "sub": self.user_id, "aud": ["ven-platform"],
            "exp": now + self.expires_in, "nbf": now, "iat": now, "jti": Uuid::new_v4(),
            "uid": self.user_id, "email": self.email, "first_name": "Test", "last_name": "User",
            "roles": self.roles, "permissions": self.permissions, "token_type": "access",
            "session_id": Uuid::new_v4(), "auth_provider": "local",
        });
        if self.tv > 0 {
            claims["tv"] = json!(self.tv);
        }
        if let Some(org) = self.org_id {
            claims["org_id"] = json!(org);
        }
        claims
    }

    /// The signed HS256 token.
    pub fn sign(&self) -> String {
        sign_json(&self.to_json())
    }
}

/// Signs arbitrary claims with the test access secret (for forged or odd tokens).
pub fn sign_json(claims: &Value) -> String {
    let key =
        jsonwebtoken::EncodingKey::from_secret(TEST_ACCESS_SECRET.as_bytes()).expect("hmac key");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &key,
    )
    .expect("sign test token")
}
