//! SES-02: ending one session kills the access tokens already issued in it (they carry its id
//! as `session_id`), on every replica and through every revocation source, while the user's
//! other sessions keep working; the session's refresh token is refused with the contract's
//! code (§5.2: 401 `TOKEN_REVOKED`, the family is dead).

use std::time::Duration;

use auth_host::revocation::PgRevocation;
use jwt_verify::VerifyError;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::helpers::*;

/// Documented bound for another replica's NATS watcher to see a terminated session.
const PROPAGATION_BOUND: Duration = Duration::from_secs(1);

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Asserts `token` is refused as revoked, within [`PROPAGATION_BOUND`], by the session app
/// and the replica (HTTP), then by the replica's NATS watcher alone and by Postgres alone.
async fn refused_everywhere(app: &TestApp, replica: &Replica, token: &str) {
    until_refused(&app.api("/auth/validate"), token, PROPAGATION_BOUND).await;
    let (status, body) = send(http().get(app.api("/auth/sessions")).bearer_auth(token)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    until_refused(&replica.api("/auth/validate"), token, PROPAGATION_BOUND).await;
    let (status, _) = send(http().get(replica.api("/auth/sessions")).bearer_auth(token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let verifier = &replica.platform.verifier;
    let nats_only = &replica.platform.revocation.primary;
    assert_eq!(
        verifier.verify_access_with(token, nats_only).await.err(),
        Some(VerifyError::Revoked)
    );
    let pg_only = PgRevocation::new(app.platform.db.clone());
    assert_eq!(
        verifier.verify_access_with(token, &pg_only).await.err(),
        Some(VerifyError::Revoked)
    );
}

async fn accepted_everywhere(app: &TestApp, replica: &Replica, token: &str) {
    assert!(is_valid(&app.api("/auth/validate"), token).await);
    assert!(is_valid(&replica.api("/auth/validate"), token).await);
    let pg_only = PgRevocation::new(app.platform.db.clone());
    assert!(
        app.platform
            .verifier
            .verify_access_with(token, &pg_only)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn ses_02_ending_a_session_kills_every_access_token_issued_in_it() {
    let app = spawn().await;
    let replica = Replica::start(&app.env).await;
    let user = create_user(&app, &[]).await;
    let doomed = login(&app, user).await;
    let kept = login(&app, user).await;
    // a rotation later, the session has two live access tokens and a new refresh token
    let (status, body) = refresh(&app.api("/auth/refresh"), &doomed.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = pair(&body);
    assert_eq!(
        payload(&rotated.access_token)["session_id"],
        json!(doomed.session_id)
    );
    for token in [&doomed.tokens.access_token, &rotated.access_token] {
        accepted_everywhere(&app, &replica, token).await;
    }

    // the user ends it from the other device
    let (status, body) = send(
        http()
            .delete(app.api(&format!("/auth/sessions/{}", doomed.session_id)))
            .bearer_auth(&kept.tokens.access_token),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));

    for token in [&doomed.tokens.access_token, &rotated.access_token] {
        refused_everywhere(&app, &replica, token).await;
    }
    let (status, body) = refresh(&replica.api("/auth/refresh"), &rotated.refresh_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    // the other session is untouched
    accepted_everywhere(&app, &replica, &kept.tokens.access_token).await;
    let (status, _) = refresh(&app.api("/auth/refresh"), &kept.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    // the revocation is durable for one access lifetime (plus a minute), keyed by the session
    let row: (Option<uuid::Uuid>, f64) = sqlx::query_as(
        "select user_id, extract(epoch from expires_at - now())::float8
           from revoked_access_tokens where jti = $1",
    )
    .bind(doomed.session_id)
    .fetch_one(&app.platform.db)
    .await
    .expect("revoked session row");
    assert_eq!(row.0, Some(user));
    assert!((900.0..=960.0).contains(&row.1), "{}", row.1);
}

#[tokio::test]
async fn ses_02_an_admin_ending_a_session_kills_its_access_tokens() {
    let app = spawn().await;
    let replica = Replica::start(&app.env).await;
    let user = create_user(&app, &[]).await;
    let doomed = login(&app, user).await;
    let kept = login(&app, user).await;
    let (_, admin) = admin_token(&app, &["super_admin"]).await;
    accepted_everywhere(&app, &replica, &doomed.tokens.access_token).await;

    let (status, body) = send(
        http()
            .delete(replica.api(&format!(
                "/admin/users/{user}/sessions/{}",
                doomed.session_id
            )))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    refused_everywhere(&app, &replica, &doomed.tokens.access_token).await;
    let (status, body) = refresh(&app.api("/auth/refresh"), &doomed.tokens.refresh_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    accepted_everywhere(&app, &replica, &kept.tokens.access_token).await;
    // the admin's own token is not affected by ending someone else's session
    assert!(is_valid(&app.api("/auth/validate"), &admin).await);
}
