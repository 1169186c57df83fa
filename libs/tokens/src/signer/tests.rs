//! Pure signer tests with a frozen clock.

use std::sync::Arc;
use std::time::Duration;

use jwt_verify::{ManualClock, NoRevocation, Purpose, Verifier, VerifierConfig};
use uuid::Uuid;

use super::*;
use crate::grants::OrgContext;

const ACCESS: &str = "access-secret-for-unit-tests-0123456789";
const REFRESH: &str = "refresh-secret-for-unit-tests-0123456789";
const T0_MS: i64 = 1_700_000_000_000;

fn fixture() -> (TokenSigner, Verifier, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0_MS));
    let cfg = SignerConfig::new(ACCESS, REFRESH, "ven-auth", vec!["ven-platform".into()]);
    let signer = TokenSigner::new(cfg, clock.clone()).unwrap_or_else(|e| panic!("{e}"));
    let vcfg = VerifierConfig::new(ACCESS, "ven-auth", "ven-platform")
        .with_refresh_secrets(REFRESH, None)
        .with_clock(clock.clone());
    let verifier = Verifier::new(vcfg, Arc::new(NoRevocation)).unwrap_or_else(|e| panic!("{e}"));
    (signer, verifier, clock)
}

fn user(namespace: &str, tv: i64) -> UserIdentity {
    UserIdentity {
        id: Uuid::new_v4(),
        email: "ada@example.com".into(),
        first_name: "Ada".into(),
        last_name: String::new(),
        display_name: String::new(),
        auth_provider: "local".into(),
        namespace: namespace.into(),
        token_version: tv,
    }
}

fn payload_keys(token: &str) -> Vec<String> {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap_or_default();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap_or_default();
    let mut keys: Vec<String> = v
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn access_claims_follow_the_contract_table() {
    let (signer, _, _) = fixture();
    let u = user("default", 0);
    let grants = Grants {
        roles: vec!["base_user".into()],
        permissions: vec!["items:read".into()],
        organization: None,
    };
    let sid = Uuid::new_v4();
    let spec = AccessSpec {
        user: &u,
        grants: &grants,
        app: None,
        session_id: sid,
        remember_me: false,
        impersonator: None,
    };
    let c = signer
        .access_claims(&spec, 1_700_000_000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (c.iat, c.nbf, c.exp),
        (1_700_000_000, 1_700_000_000, 1_700_000_900)
    );
    assert_eq!(c.sub, u.id.to_string());
    assert_eq!(c.uid, c.sub);
    assert_eq!(c.session_id, sid.to_string());
    assert!(Uuid::parse_str(&c.jti).is_ok());
    // default pool, tv 0, no app, no org, no impersonation: all omitted
    assert!(c.namespace.is_empty() && c.tv == 0 && c.app_code.is_empty());
    assert!(c.org_id.is_empty() && c.imp_uid.is_empty());

    let again = signer
        .access_claims(&spec, 1_700_000_000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(again.jti, c.jti, "jti is random per token");
}

#[test]
fn access_claims_carry_pool_version_org_and_impersonator() {
    let (signer, _, _) = fixture();
    let u = user("tenant-a", 7);
    let org = OrgContext {
        id: Uuid::new_v4(),
        slug: "acme".into(),
        name: "Acme".into(),
    };
    let grants = Grants {
        roles: vec![],
        permissions: vec![],
        organization: Some(org.clone()),
    };
    let imp = Impersonator {
        user_id: Uuid::new_v4(),
        email: "admin@example.com".into(),
    };
    let spec = AccessSpec {
        user: &u,
        grants: &grants,
        app: None,
        session_id: Uuid::new_v4(),
        remember_me: true,
        impersonator: Some(&imp),
    };
    let c = signer
        .access_claims(&spec, 10)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.namespace, "tenant-a");
    assert_eq!(c.tv, 7);
    assert_eq!(c.org_id, org.id.to_string());
    assert_eq!((c.org_slug.as_str(), c.org_name.as_str()), ("acme", "Acme"));
    assert_eq!(c.imp_uid, imp.user_id.to_string());
    assert_eq!(c.imp_email, "admin@example.com");
    assert!(c.remember_me);
}

#[test]
fn refresh_lifetime_depends_on_remember_me_and_ids_match_the_row() {
    let (signer, _, _) = fixture();
    let row = Uuid::new_v4();
    let mut spec = RefreshSpec {
        user_id: Uuid::new_v4(),
        row_id: row,
        org_id: None,
        remember_me: false,
        app_code: None,
    };
    let c = signer
        .refresh_claims(&spec, 100)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.exp - c.iat, 168 * 3600);
    assert_eq!(
        (c.jti.as_str(), c.tid.as_str()),
        (row.to_string().as_str(), row.to_string().as_str())
    );
    spec.remember_me = true;
    spec.app_code = Some("shop");
    let c = signer
        .refresh_claims(&spec, 100)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.exp - c.iat, 720 * 3600);
    assert_eq!(c.app_code, "shop");
}

#[test]
fn service_token_verifies_and_has_only_service_claims() {
    let (signer, verifier, _) = fixture();
    let t = signer
        .sign_service(
            "client-1",
            "billing",
            &["permissions:register".into()],
            Duration::from_secs(900),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.expires_in, 900);
    assert_eq!(t.expires_at, "2023-11-14T22:28:20Z");
    let c = verifier
        .verify_service(&t.token)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.sub, "client-1");
    assert!(c.has_scope("permissions:register"));
    let expected = [
        "aud",
        "client_id",
        "exp",
        "iat",
        "iss",
        "jti",
        "nbf",
        "permissions",
        "roles",
        "scopes",
        "service_name",
        "sub",
        "token_type",
    ];
    assert_eq!(payload_keys(&t.token), expected);
}

#[test]
fn purpose_tokens_verify_for_their_purpose_only_and_expire() {
    let (signer, verifier, clock) = fixture();
    let (uid, row) = (Uuid::new_v4(), Uuid::new_v4());
    let token = signer
        .sign_purpose(
            Purpose::PasswordReset,
            uid,
            "a@b.c",
            row,
            Duration::from_secs(3600),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let c = verifier
        .verify_purpose(&token, Purpose::PasswordReset)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (c.jti, c.uid, c.email),
        (row.to_string(), uid.to_string(), "a@b.c".into())
    );
    assert_eq!(c.aud, vec!["ven-auth:reset".to_owned()]);
    assert!(!payload_keys(&token).contains(&"nbf".to_owned()));
    assert!(
        verifier
            .verify_purpose(&token, Purpose::EmailVerification)
            .is_err()
    );
    assert!(verifier.decode_access(&token).is_err());
    clock.advance_secs(3600 + 31);
    assert!(
        verifier
            .verify_purpose(&token, Purpose::PasswordReset)
            .is_err()
    );
}

#[test]
fn config_is_validated() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
    let aud = vec!["ven-platform".to_owned()];
    let bad = [
        SignerConfig::new("short", REFRESH, "ven-auth", aud.clone()),
        SignerConfig::new(ACCESS, ACCESS, "ven-auth", aud.clone()),
        SignerConfig::new(ACCESS, REFRESH, "ven-auth", vec![]),
        SignerConfig::new(ACCESS, REFRESH, "", aud.clone()),
        SignerConfig {
            access_ttl: Duration::ZERO,
            ..SignerConfig::new(ACCESS, REFRESH, "ven-auth", aud.clone())
        },
    ];
    for cfg in bad {
        assert!(TokenSigner::new(cfg, clock.clone()).is_err());
    }
    let ok = SignerConfig::new(ACCESS, REFRESH, "ven-auth", aud);
    assert!(
        !format!("{ok:?}").contains(ACCESS),
        "Debug never shows secrets"
    );
}
