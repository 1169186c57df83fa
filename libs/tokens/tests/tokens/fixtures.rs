//! Rows and signer/verifier pairs the tests build on.

use std::sync::Arc;

use auth_tokens::{
    AppScope, DeviceInfo, Family, Grants, IssueRequest, ManualClock, SignerConfig, TokenSigner,
    UserIdentity, load_app,
};
use jwt_verify::{NoRevocation, Verifier, VerifierConfig};
use sqlx::PgConnection;
use testkit::TestDb;
use uuid::Uuid;

pub const ACCESS: &str = "integration-access-secret-0123456789abcdef";
pub const REFRESH: &str = "integration-refresh-secret-0123456789abcdef";
pub const ISSUER: &str = "ven-auth";
pub const AUDIENCE: &str = "ven-platform";

/// A test database plus a signer and a verifier sharing one frozen clock.
pub struct Ctx {
    pub db: TestDb,
    pub signer: TokenSigner,
    pub verifier: Verifier,
    pub clock: Arc<ManualClock>,
}

impl Ctx {
    pub async fn new() -> Self {
        let db = TestDb::new().await;
        let clock = Arc::new(ManualClock::starting_now());
        let cfg = SignerConfig::new(
            ACCESS,
            REFRESH,
            ISSUER,
            vec![AUDIENCE.to_owned(), "other-aud".to_owned()],
        );
        let signer = TokenSigner::new(cfg, clock.clone()).expect("signer config");
        let vcfg = VerifierConfig::new(ACCESS, ISSUER, AUDIENCE)
            .with_refresh_secrets(REFRESH, None)
            .with_clock(clock.clone());
        let verifier = Verifier::new(vcfg, Arc::new(NoRevocation)).expect("verifier config");
        Self {
            db,
            signer,
            verifier,
            clock,
        }
    }

    pub async fn conn(&self) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
        self.db.pool().acquire().await.expect("acquire connection")
    }
}

pub async fn create_user(conn: &mut PgConnection, email: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status)
         values ($1, 'Ada', 'Lovelace', 'active') returning id",
    )
    .bind(email)
    .fetch_one(conn)
    .await
    .expect("insert user")
}

pub async fn add_base_role(conn: &mut PgConnection, user: Uuid, code: &str) {
    sqlx::query(
        "insert into user_base_roles (user_id, role_id)
         select $1, id from roles where code = $2 and organization_id is null",
    )
    .bind(user)
    .bind(code)
    .execute(conn)
    .await
    .expect("insert base role");
}

pub async fn create_org(conn: &mut PgConnection, owner: Uuid, status: &str) -> Uuid {
    let slug = testkit::unique_prefix("org");
    sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id, status)
         values ('Org ' || $1, $1, $2, $3) returning id",
    )
    .bind(slug)
    .bind(owner)
    .bind(status)
    .fetch_one(conn)
    .await
    .expect("insert org")
}

/// Adds a membership; returns its id.
pub async fn add_member(conn: &mut PgConnection, user: Uuid, org: Uuid, status: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into organization_members (user_id, organization_id, status)
         values ($1, $2, $3) returning id",
    )
    .bind(user)
    .bind(org)
    .bind(status)
    .fetch_one(conn)
    .await
    .expect("insert membership")
}

pub async fn add_member_role(conn: &mut PgConnection, membership: Uuid, code: &str) {
    sqlx::query(
        "insert into organization_member_roles (membership_id, role_id)
         select $1, id from roles where code = $2 and organization_id is null",
    )
    .bind(membership)
    .bind(code)
    .execute(conn)
    .await
    .expect("insert member role");
}

pub async fn create_app(conn: &mut PgConnection, services: &[&str], auto_grant: bool) -> AppScope {
    let code = testkit::unique_prefix("app");
    let services: Vec<String> = services.iter().map(|s| (*s).to_owned()).collect();
    sqlx::query(
        "insert into apps (code, name, service_codes, auto_grant_on_signup)
         values ($1, 'App ' || $1, $2, $3)",
    )
    .bind(&code)
    .bind(services)
    .bind(auto_grant)
    .execute(&mut *conn)
    .await
    .expect("insert app");
    load_app(conn, &code)
        .await
        .expect("load app")
        .expect("app exists")
}

pub fn identity(id: Uuid, email: &str) -> UserIdentity {
    UserIdentity {
        id,
        email: email.to_owned(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        display_name: String::new(),
        auth_provider: "local".into(),
        namespace: "default".into(),
        token_version: 0,
    }
}

/// A base-user login request (no app, no org) from a fixed client.
pub fn login_request(user: UserIdentity, grants: Grants) -> IssueRequest {
    IssueRequest {
        user,
        grants,
        app: None,
        remember_me: false,
        device: DeviceInfo {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("test-agent/1.0".into()),
        },
        impersonator: None,
        family: Family::New,
    }
}

/// The JSON keys of a JWT's payload, sorted.
pub fn payload_keys(token: &str) -> Vec<String> {
    let v = payload(token);
    let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

/// A JWT's payload as JSON.
pub fn payload(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("three parts");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url payload");
    serde_json::from_slice(&raw).expect("json payload")
}

pub fn sorted(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    v.sort();
    v
}
