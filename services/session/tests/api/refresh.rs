//! `POST /auth/refresh` as a client sees it: RT-01, RT-02, RT-05, RT-06, idle timeout,
//! expiry, user and org gates, decision §9.18.

use auth_tokens::RefreshSpec;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn rt_01_refresh_rotates_in_the_family_and_answers_bare_fields_and_tokens() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let first = login(&app, user).await;
    let (status, body) = refresh(&app.api("/auth/refresh"), &first.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // §9.18: bare TokenResponse fields and the same values under `tokens`
    let new = pair(&body);
    assert_eq!(body["tokens"], json!(new));
    assert_eq!(new.token_type, "Bearer");
    assert_eq!(new.expires_in, 900);
    assert_ne!(new.refresh_token, first.tokens.refresh_token);
    assert!(body.get("user").is_none());

    let claims = payload(&new.refresh_token);
    let new_row = Uuid::parse_str(claims["tid"].as_str().expect("tid")).expect("uuid");
    let (revoked, reason, family): (bool, String, Uuid) = sqlx::query_as(
        "select revoked, revoked_reason, family_id from refresh_tokens where id = $1",
    )
    .bind(first.refresh_token_id)
    .fetch_one(&app.platform.db)
    .await
    .expect("old row");
    assert!(revoked);
    assert_eq!(reason, "token_refresh");
    let (parent, child_family): (Uuid, Uuid) =
        sqlx::query_as("select parent_id, family_id from refresh_tokens where id = $1")
            .bind(new_row)
            .fetch_one(&app.platform.db)
            .await
            .expect("new row");
    assert_eq!((parent, child_family), (first.refresh_token_id, family));

    // one session per family, moved onto the new row; the access token names it
    let sessions: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select id, refresh_token_id from sessions where user_id = $1 and terminated is not true",
    )
    .bind(user)
    .fetch_all(&app.platform.db)
    .await
    .expect("sessions");
    assert_eq!(sessions, vec![(first.session_id, new_row)]);
    let access = payload(&new.access_token);
    assert_eq!(access["session_id"], json!(first.session_id.to_string()));
    assert_eq!(access["uid"], json!(user.to_string()));
    assert!(is_valid(&app.api("/auth/validate"), &new.access_token).await);

    // the new refresh token rotates again
    let (status, _) = refresh(&app.api("/auth/refresh"), &new.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rt_02_replaying_a_rotated_token_kills_the_family_and_audits_once() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let first = login(&app, user).await;
    let url = app.api("/auth/refresh");
    let (_, body) = refresh(&url, &first.tokens.refresh_token).await;
    let second = pair(&body);

    let (status, body) = refresh(&url, &first.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "TOKEN_REVOKED");
    // the legitimate holder's newer token died with the family
    let (status, body) = refresh(&url, &second.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "TOKEN_REVOKED");

    assert_eq!(family_rows(&app, first.family_id).await, (0, 2));
    let live_sessions: i64 = sqlx::query_scalar(
        "select count(*) from sessions where user_id = $1 and terminated is not true",
    )
    .bind(user)
    .fetch_one(&app.platform.db)
    .await
    .expect("sessions");
    assert_eq!(live_sessions, 0);
    let reasons: Vec<String> = sqlx::query_scalar(
        "select revoked_reason from refresh_tokens where family_id = $1 order by created_at",
    )
    .bind(first.family_id)
    .fetch_all(&app.platform.db)
    .await
    .expect("reasons");
    assert_eq!(reasons, ["token_refresh", "refresh_token_reuse_detected"]);

    let audits = audit_rows(&app, "refresh.reuse_detected").await;
    assert_eq!(
        audits.len(),
        1,
        "one audit row per family death: {audits:?}"
    );
    let event = &audits[0];
    assert_eq!(event["resource_type"], "refresh_token_family");
    assert_eq!(event["resource_id"], json!(first.family_id.to_string()));
    assert_eq!(event["user_id"], json!(user.to_string()));
    // no token material in the event
    let text = event.to_string();
    assert!(!text.contains(&first.tokens.refresh_token));
    assert!(!text.contains(&second.refresh_token));
}

#[tokio::test]
async fn rt_05_same_second_chain_every_older_token_is_reuse() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let first = login(&app, user).await;
    let url = app.api("/auth/refresh");
    let (_, b2) = refresh(&url, &first.tokens.refresh_token).await;
    let rt2 = pair(&b2).refresh_token;
    let (_, b3) = refresh(&url, &rt2).await;
    let rt3 = pair(&b3).refresh_token;
    let (status, body) = refresh(&url, &rt2).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    let (status, body) = refresh(&url, &rt3).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    assert_eq!(family_rows(&app, first.family_id).await, (0, 3));
}

#[tokio::test]
async fn rt_06_a_restart_between_rotations_changes_nothing() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let first = login(&app, user).await;
    let (_, body) = refresh(&app.api("/auth/refresh"), &first.tokens.refresh_token).await;
    let second = pair(&body);

    // the first process goes away; a new one starts on the same database
    stop(&app);
    let restarted = Replica::start(&app.env).await;
    let url = restarted.api("/auth/refresh");
    let (status, body) = refresh(&url, &second.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let third = pair(&body);
    let (status, body) = refresh(&url, &first.tokens.refresh_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    let (status, _) = refresh(&url, &third.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(family_rows(&app, first.family_id).await, (0, 3));
}

#[tokio::test]
async fn an_expired_row_is_token_invalid_and_an_expired_jwt_token_expired() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let url = app.api("/auth/refresh");

    let first = login(&app, user).await;
    sqlx::query("update refresh_tokens set expires_at = now() - interval '1 minute' where id = $1")
        .bind(first.refresh_token_id)
        .execute(&app.platform.db)
        .await
        .expect("age row");
    let (status, body) = refresh(&url, &first.tokens.refresh_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_INVALID")
    );

    // a refresh JWT whose own exp has passed
    let other = login(&app, user).await;
    let signer = &app.platform.signer;
    let old_iat = chrono::Utc::now().timestamp() - 8 * 24 * 3600;
    let claims = signer
        .refresh_claims(
            &RefreshSpec {
                user_id: user,
                row_id: other.refresh_token_id,
                org_id: None,
                remember_me: false,
                app_code: None,
            },
            old_iat,
        )
        .expect("claims");
    let expired = signer.encode_refresh(&claims).expect("sign");
    let (status, body) = refresh(&url, &expired).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED")
    );
    // the row itself is untouched
    assert_eq!(family_rows(&app, other.family_id).await, (1, 1));
}

#[tokio::test]
async fn garbage_and_access_tokens_are_token_invalid() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    let url = app.api("/auth/refresh");
    for bad in ["x", "a.b.c", issued.tokens.access_token.as_str()] {
        let (status, body) = refresh(&url, bad).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNAUTHORIZED, "TOKEN_INVALID")
        );
    }
    // a well-signed token whose row does not exist
    let signer = &app.platform.signer;
    let claims = signer
        .refresh_claims(
            &RefreshSpec {
                user_id: user,
                row_id: Uuid::new_v4(),
                org_id: None,
                remember_me: false,
                app_code: None,
            },
            chrono::Utc::now().timestamp(),
        )
        .expect("claims");
    let unknown = signer.encode_refresh(&claims).expect("sign");
    let (status, body) = refresh(&url, &unknown).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_INVALID")
    );
    assert_eq!(family_rows(&app, issued.family_id).await, (1, 1));
}

#[tokio::test]
async fn idle_timeout_revokes_the_family_and_audits() {
    let app = spawn_with(&[("AUTH_REFRESH_IDLE_TIMEOUT", "1h")]).await;
    let user = create_user(&app, &[]).await;
    let fresh = login(&app, user).await;
    let (status, _) = refresh(&app.api("/auth/refresh"), &fresh.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);

    let idle = login(&app, user).await;
    sqlx::query("update refresh_tokens set created_at = now() - interval '2 hours' where id = $1")
        .bind(idle.refresh_token_id)
        .execute(&app.platform.db)
        .await
        .expect("age row");
    let (status, body) = refresh(&app.api("/auth/refresh"), &idle.tokens.refresh_token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "TOKEN_REVOKED")
    );
    assert_eq!(family_rows(&app, idle.family_id).await, (0, 1));
    let reason: String =
        sqlx::query_scalar("select revoked_reason from refresh_tokens where id = $1")
            .bind(idle.refresh_token_id)
            .fetch_one(&app.platform.db)
            .await
            .expect("row");
    assert_eq!(reason, "refresh_idle_timeout");
    let audits = audit_rows(&app, "refresh.idle_timeout").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["resource_id"], json!(idle.family_id.to_string()));
}

#[tokio::test]
async fn suspended_and_deleted_users_are_refused_and_nothing_changes() {
    let app = spawn().await;
    let url = app.api("/auth/refresh");
    for (status_sql, expected, code_expected) in [
        (
            "status = 'suspended'",
            StatusCode::FORBIDDEN,
            "USER_SUSPENDED",
        ),
        (
            "deleted_at = now()",
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
        ),
    ] {
        let user = create_user(&app, &[]).await;
        let issued = login(&app, user).await;
        sqlx::query(&format!("update users set {status_sql} where id = $1"))
            .bind(user)
            .execute(&app.platform.db)
            .await
            .expect("update user");
        let (status, body) = refresh(&url, &issued.tokens.refresh_token).await;
        assert_eq!((status, code(&body)), (expected, code_expected));
        // no partial state: the row is still live and unconsumed
        assert_eq!(family_rows(&app, issued.family_id).await, (1, 1));
    }
}

#[tokio::test]
async fn organization_id_switches_the_org_with_login_errors() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let db = &app.platform.db;
    let org: Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id, status)
         values ('Acme', $1, $2, 'active') returning id",
    )
    .bind(testkit::unique_prefix("acme"))
    .bind(user)
    .fetch_one(db)
    .await
    .expect("org");
    sqlx::query(
        "insert into organization_members (user_id, organization_id, status)
         values ($1, $2, 'active')",
    )
    .bind(user)
    .bind(org)
    .execute(db)
    .await
    .expect("membership");
    let other_org: Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id, status)
         values ('Other', $1, $2, 'active') returning id",
    )
    .bind(testkit::unique_prefix("other"))
    .bind(user)
    .fetch_one(db)
    .await
    .expect("other org");

    let issued = login(&app, user).await;
    let url = app.api("/auth/refresh");
    let rt = &issued.tokens.refresh_token;
    for (org_id, status, err) in [
        (
            other_org.to_string(),
            StatusCode::FORBIDDEN,
            "NOT_ORGANIZATION_MEMBER",
        ),
        (
            Uuid::new_v4().to_string(),
            StatusCode::NOT_FOUND,
            "ORGANIZATION_NOT_FOUND",
        ),
        (
            "not-a-uuid".to_owned(),
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
        ),
    ] {
        let (got, body) = post_json(
            &url,
            &json!({"refresh_token": rt, "organization_id": org_id}),
            None,
        )
        .await;
        assert_eq!((got, code(&body)), (status, err), "{body}");
    }
    assert_eq!(family_rows(&app, issued.family_id).await, (1, 1));

    let (status, body) = post_json(
        &url,
        &json!({"refresh_token": rt, "organization_id": org}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let switched = pair(&body);
    let access = payload(&switched.access_token);
    assert_eq!(access["org_id"], json!(org.to_string()));
    assert_eq!(access["org_name"], "Acme");
    assert!(
        access["roles"]
            .as_array()
            .expect("roles")
            .contains(&json!("org_member"))
    );
    // the org sticks to the family: a plain refresh keeps it
    let (status, body) = refresh(&url, &switched.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        payload(&pair(&body).access_token)["org_id"],
        json!(org.to_string())
    );
}

#[tokio::test]
async fn remember_me_and_app_scope_are_kept() {
    let app = spawn().await;
    let user = create_user(&app, &[]).await;
    let code_name = testkit::unique_prefix("app");
    sqlx::query("insert into apps (code, name, service_codes) values ($1, 'App', '{shop}')")
        .bind(&code_name)
        .execute(&app.platform.db)
        .await
        .expect("app");
    let mut conn = app.platform.db.acquire().await.expect("conn");
    let scope = auth_tokens::load_app(&mut conn, &code_name)
        .await
        .expect("load")
        .expect("app");
    drop(conn);
    auth_tokens::grant_app(
        &mut app.platform.db.acquire().await.expect("conn"),
        user,
        scope.id,
        None,
    )
    .await
    .expect("grant");
    let issued = login_with(
        &app,
        user,
        LoginOptions {
            app: Some(scope.clone()),
            remember_me: true,
            ..LoginOptions::default()
        },
    )
    .await;
    let (status, body) = refresh(&app.api("/auth/refresh"), &issued.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = pair(&body);
    let access = payload(&new.access_token);
    assert_eq!(access["app_code"], json!(code_name));
    assert_eq!(access["remember_me"], json!(true));
    let refresh_claims = payload(&new.refresh_token);
    assert_eq!(refresh_claims["app_code"], json!(code_name));
    let lifetime =
        refresh_claims["exp"].as_i64().expect("exp") - refresh_claims["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 720 * 3600);

    // a revoked app grant stops the next refresh (the app does not auto-grant)
    sqlx::query("update user_apps set status = 'revoked' where user_id = $1")
        .bind(user)
        .execute(&app.platform.db)
        .await
        .expect("revoke grant");
    let (status, body) = refresh(&app.api("/auth/refresh"), &new.refresh_token).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
}

#[tokio::test]
async fn malformed_bodies_are_400_invalid_input() {
    let app = spawn().await;
    let url = app.api("/auth/refresh");
    let client = http();
    let cases: [(Option<&str>, &str); 6] = [
        (None, ""),
        (Some("application/json"), ""),
        (Some("application/json"), "{"),
        (Some("application/json"), "{}"),
        (Some("application/json"), r#"{"refresh_token": ""}"#),
        (Some("application/json"), r#"{"refresh_token": ["x"]}"#),
    ];
    for (content_type, body) in cases {
        let mut req = client.post(&url).body(body.to_owned());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body:?}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("application/json")
        );
        let json: serde_json::Value = resp.json().await.expect("envelope");
        assert_eq!(code(&json), "INVALID_INPUT", "{body:?}: {json}");
    }
}
