//! Issuing a pair on login: claims on the wire, refresh row, session row (contract §3, §5.1
//! step 11), SES-05 entropy.

use std::collections::HashSet;

use auth_tokens::{Impersonator, assemble, issue_pair, new_token_hash};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::fixtures::*;

const ALWAYS: &[&str] = &[
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

#[tokio::test]
async fn base_user_pair_verifies_and_omits_every_optional_claim() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "pair@example.com").await;
    add_base_role(&mut c, user, "base_user").await;
    let grants = assemble(&mut c, user, None, None).await.expect("grants");
    let mut req = login_request(identity(user, "pair@example.com"), grants.clone());
    req.user.last_name = String::new();

    let mut tx = ctx.db.pool().begin().await.expect("begin");
    let issued = issue_pair(&mut tx, &ctx.signer, &req).await.expect("issue");
    tx.commit().await.expect("commit");

    let access = ctx
        .verifier
        .verify_access(&issued.tokens.access_token)
        .await
        .expect("access verifies");
    assert_eq!(access, issued.access);
    assert_eq!(access.roles, grants.roles);
    assert_eq!(access.permissions, grants.permissions);
    assert_eq!(access.nbf, access.iat);
    assert_eq!(access.exp - access.iat, 900);
    assert_eq!(
        access.aud,
        vec![AUDIENCE.to_owned(), "other-aud".to_owned()]
    );
    let mut expected = ALWAYS.to_vec();
    expected.push("first_name");
    assert_eq!(payload_keys(&issued.tokens.access_token), sorted(&expected));

    let refresh = ctx
        .verifier
        .verify_refresh(&issued.tokens.refresh_token)
        .expect("refresh verifies");
    assert_eq!(
        payload_keys(&issued.tokens.refresh_token),
        sorted(&[
            "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "uid", "tid"
        ])
    );
    assert_eq!(refresh.exp - refresh.iat, 168 * 3600);
    // the access token is not a refresh token and vice versa
    assert!(
        ctx.verifier
            .verify_refresh(&issued.tokens.access_token)
            .is_err()
    );
    assert!(
        ctx.verifier
            .decode_access(&issued.tokens.refresh_token)
            .is_err()
    );

    // TokenResponse: exactly the contract's five fields
    let body = serde_json::to_value(&issued.tokens).expect("json");
    let mut keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_at",
            "expires_in",
            "refresh_token",
            "token_type"
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>()
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let at = DateTime::parse_from_rfc3339(&issued.tokens.expires_at).expect("rfc3339");
    assert_eq!(at.timestamp(), access.exp);
    assert!(issued.tokens.expires_at.ends_with('Z') && !issued.tokens.expires_at.contains('.'));
}

#[tokio::test]
async fn scoped_pair_carries_org_app_version_pool_and_impersonator() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "full@example.com").await;
    add_base_role(&mut c, user, "base_user").await;
    let org = create_org(&mut c, user, "active").await;
    add_member(&mut c, user, org, "active").await;
    let app = create_app(&mut c, &["shop"], false).await;
    let grants = assemble(&mut c, user, Some(&app), Some(org))
        .await
        .expect("grants");
    let admin = Uuid::new_v4();
    let mut req = login_request(identity(user, "full@example.com"), grants);
    req.user.display_name = "Ada L.".into();
    req.user.namespace = "tenant-b".into();
    req.user.token_version = 4;
    req.app = Some(app.clone());
    req.remember_me = true;
    req.impersonator = Some(Impersonator {
        user_id: admin,
        email: "admin@example.com".into(),
    });

    let issued = issue_pair(&mut c, &ctx.signer, &req).await.expect("issue");
    let access = ctx
        .verifier
        .verify_access(&issued.tokens.access_token)
        .await
        .expect("verifies");
    let mut expected = ALWAYS.to_vec();
    expected.extend([
        "first_name",
        "last_name",
        "display_name",
        "org_id",
        "org_slug",
        "org_name",
        "remember_me",
        "tv",
        "app_id",
        "app_code",
        "namespace",
        "imp_uid",
        "imp_email",
    ]);
    assert_eq!(payload_keys(&issued.tokens.access_token), sorted(&expected));
    let p = payload(&issued.tokens.access_token);
    assert_eq!(p["tv"], 4);
    assert_eq!(p["org_id"], org.to_string());
    assert_eq!(p["app_code"], app.code);
    assert_eq!(p["app_id"], app.id.to_string());
    assert_eq!(p["namespace"], "tenant-b");
    assert_eq!(p["imp_uid"], admin.to_string());
    assert_eq!(p["remember_me"], true);
    assert_eq!(access.session_id, issued.session_id.to_string());

    let refresh = ctx
        .verifier
        .verify_refresh(&issued.tokens.refresh_token)
        .expect("verifies");
    assert_eq!(
        payload_keys(&issued.tokens.refresh_token),
        sorted(&[
            "iss",
            "sub",
            "aud",
            "exp",
            "nbf",
            "iat",
            "jti",
            "uid",
            "tid",
            "org_id",
            "remember_me",
            "app_code",
        ])
    );
    assert_eq!(
        refresh.exp - refresh.iat,
        720 * 3600,
        "remember-me lifetime"
    );
    assert_eq!(refresh.app_code, app.code);
    assert_eq!(refresh.org_id, org.to_string());
}

/// id, refresh_token_id, app_id, device_info, expires_at
type SessionRow = (Uuid, Uuid, Option<Uuid>, Option<String>, DateTime<Utc>);

#[derive(sqlx::FromRow)]
struct StoredRow {
    user_id: Uuid,
    organization_id: Option<Uuid>,
    token_hash: String,
    device_info: Option<String>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    expires_at: DateTime<Utc>,
    revoked: Option<bool>,
    family_id: Uuid,
    parent_id: Option<Uuid>,
    app_id: Option<Uuid>,
}

#[tokio::test]
async fn login_opens_a_family_with_one_session_and_jti_equals_tid_equals_row_id() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, "rows@example.com").await;
    add_base_role(&mut c, user, "base_user").await;
    let app = create_app(&mut c, &[], false).await;
    let grants = assemble(&mut c, user, Some(&app), None)
        .await
        .expect("grants");
    let mut req = login_request(identity(user, "rows@example.com"), grants);
    req.app = Some(app.clone());
    let issued = issue_pair(&mut c, &ctx.signer, &req).await.expect("issue");

    let refresh = ctx
        .verifier
        .verify_refresh(&issued.tokens.refresh_token)
        .expect("verifies");
    let row_id = issued.refresh_token_id.to_string();
    assert_eq!(refresh.jti, row_id);
    assert_eq!(refresh.tid, row_id);
    assert_ne!(issued.access.jti, row_id, "access jti is its own random id");

    let row: StoredRow = sqlx::query_as("select * from refresh_tokens where id = $1")
        .bind(issued.refresh_token_id)
        .fetch_one(&mut *c)
        .await
        .expect("row stored");
    assert_eq!(row.user_id, user);
    assert_eq!(
        row.family_id, issued.refresh_token_id,
        "root row names its family"
    );
    assert_eq!(issued.family_id, row.family_id);
    assert_eq!(row.parent_id, None);
    assert_eq!(row.revoked, Some(false));
    assert_eq!(row.expires_at.timestamp(), refresh.exp);
    assert_eq!(row.app_id, Some(app.id));
    assert_eq!(row.organization_id, None);
    assert_eq!(row.ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(row.user_agent.as_deref(), Some("test-agent/1.0"));
    assert_eq!(row.device_info.as_deref(), Some("test-agent/1.0"));
    // RT-10: only a hash is stored, never the token
    assert_eq!(row.token_hash.len(), 64);
    assert!(!issued.tokens.refresh_token.contains(&row.token_hash));

    let sessions: Vec<SessionRow> = sqlx::query_as(
        "select id, refresh_token_id, app_id, device_info, expires_at from sessions
          where user_id = $1",
    )
    .bind(user)
    .fetch_all(&mut *c)
    .await
    .expect("sessions");
    assert_eq!(sessions.len(), 1);
    let (sid, rt, app_id, device, expires) = &sessions[0];
    assert_eq!(*sid, issued.session_id);
    assert_eq!(*rt, issued.refresh_token_id);
    assert_eq!(*app_id, Some(app.id));
    assert_eq!(device.as_deref(), Some("test-agent/1.0"));
    assert_eq!(expires.timestamp(), refresh.exp);
}

#[test]
fn ses_05_ten_thousand_token_hashes_are_distinct() {
    let hashes: HashSet<String> = (0..10_000)
        .map(|_| new_token_hash().expect("os random"))
        .collect();
    assert_eq!(hashes.len(), 10_000);
    assert!(hashes.iter().all(|h| h.len() == 64));
}
