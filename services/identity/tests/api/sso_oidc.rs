//! SSO against a real OpenID provider (`oidc-provider`): the whole browser-less PKCE flow
//! and its refusals (SSO-01, SSO-03, SSO-06, SSO-08, SSO-09, SSO-10, SSO-12, PW-07).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::sso_support::{
    REDIRECT, account, acme_env, browser_login, pkce, sso_url, start_app, start_provider,
};
use crate::support::{self, assert_error, count, post};

async fn callback(app: &testkit::TestApp, code: &str, state: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/sso/callback",
        &json!({"provider": "acme", "code": code, "state": state}),
        None,
    )
    .await
}

async fn exchange(app: &testkit::TestApp, code: &str, verifier: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/sso/exchange",
        &json!({"auth_code": code, "code_verifier": verifier}),
        None,
    )
    .await
}

#[tokio::test]
async fn sso_09_full_pkce_flow_with_a_real_provider_ends_in_a_login_response() {
    let idp = start_provider(json!({"alice": account("alice-sub", "alice@idp.test", true)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;

    let (status, list) = support::send(
        &app,
        reqwest::Method::GET,
        "/auth/sso/providers",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!([{"name": "Acme", "type": "acme", "enabled": true}])
    );

    let (verifier, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    // SSO-09: our own S256 challenge towards the provider, never the client's, never plain
    assert!(
        auth_url.starts_with(&format!("{}/auth?", idp.issuer)),
        "{auth_url}"
    );
    assert!(
        auth_url.contains("code_challenge_method=S256"),
        "{auth_url}"
    );
    assert!(!auth_url.contains(&challenge), "{auth_url}");
    assert!(auth_url.contains("nonce="), "{auth_url}");
    assert_eq!(state.len(), 43);

    let (code, returned_state) = browser_login(&idp.issuer, &auth_url, "alice").await;
    assert_eq!(returned_state, state);
    let (status, body) = callback(&app, &code, &state).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 60);
    assert_eq!(body["auth_code_expires_in"], 60);
    let auth_code = body["auth_code"].as_str().expect("auth_code").to_owned();
    // SES-06: the pre-login identifiers are not the session's
    assert_ne!(auth_code, state);

    let (status, login) = exchange(&app, &auth_code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["user"]["email"], "alice@idp.test");
    assert_eq!(login["user"]["email_verified"], true);
    assert_eq!(login["user"]["status"], "active");
    assert_eq!(login["user"]["auth_provider"], "custom");
    assert_eq!(login["user"]["first_name"], "Alice");
    assert_eq!(login["tokens"]["token_type"], "Bearer");
    assert!(
        login["roles"]
            .as_array()
            .expect("roles")
            .contains(&json!("base_user"))
    );
    let links = count(
        &app,
        "select count(*) from user_auth_providers where provider = 'acme' and provider_user_id = 'alice-sub'",
    )
    .await;
    assert_eq!(links, 1);
    assert!(
        support::audit_actions(&app)
            .await
            .contains(&"login.success".to_owned())
    );

    // SSO-08: the callback and the auth code are single use
    let (status, body) = callback(&app, &code, &state).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "SSO_TOKEN_INVALID");
    let (status, body) = exchange(&app, &auth_code, &verifier).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "TOKEN_INVALID");

    // a second sign-in finds the same account through the link
    let (verifier, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (_, body) = callback(&app, &code, &state).await;
    let (status, again) =
        exchange(&app, body["auth_code"].as_str().expect("code"), &verifier).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["user"]["id"], login["user"]["id"]);
    assert_eq!(count(&app, "select count(*) from users").await, 1);
}

#[tokio::test]
async fn sso_pkce_wrong_verifier_is_refused_and_burns_the_code() {
    let idp = start_provider(json!({"alice": account("alice-sub", "alice@idp.test", true)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let (verifier, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (_, body) = callback(&app, &code, &state).await;
    let auth_code = body["auth_code"].as_str().expect("auth_code").to_owned();

    let (other, _) = pkce();
    let (status, body) = exchange(&app, &auth_code, &other).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, body) = exchange(&app, &auth_code, "short").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, body) = exchange(&app, &auth_code, &verifier).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "TOKEN_INVALID");
}

#[tokio::test]
async fn sso_expired_auth_code_is_refused() {
    let idp = start_provider(json!({"alice": account("alice-sub", "alice@idp.test", true)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let (verifier, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (_, body) = callback(&app, &code, &state).await;
    let auth_code = body["auth_code"].as_str().expect("auth_code").to_owned();

    // craft the expiry: the stored record says it expired a second ago
    let key = identity::flows::sso::state::auth_code_key(&auth_code);
    let cache = &app.platform.cache;
    let raw = cache
        .get(&key, auth_cache::Fallback::Memory)
        .await
        .expect("cache")
        .expect("stored auth code");
    let mut record: Value = serde_json::from_slice(&raw).expect("record");
    record["expires_at"] = json!(chrono::Utc::now().timestamp() - 1);
    cache
        .set_ex(
            &key,
            record.to_string().as_bytes(),
            std::time::Duration::from_secs(60),
            auth_cache::Fallback::Memory,
        )
        .await
        .expect("write");
    let (status, body) = exchange(&app, &auth_code, &verifier).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "TOKEN_INVALID");
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn sso_01_03_unknown_or_foreign_state_is_refused() {
    let idp = start_provider(json!({"alice": account("alice-sub", "alice@idp.test", true)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let (status, body) = callback(&app, "some-code", "not-a-state").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "SSO_TOKEN_INVALID");
    let (status, body) = post(&app, "/auth/sso/callback", &json!({"code": "x"}), None).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_INPUT");

    // SSO-03: a flow started for acme, delivered as another provider's callback
    let (_, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (status, body) = post(
        &app,
        "/auth/sso/callback",
        &json!({"provider": "github", "code": code, "state": state}),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "SSO_TOKEN_INVALID");
    // and the state is gone now (single use)
    let (status, body) = callback(&app, &code, &state).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "SSO_TOKEN_INVALID");
    assert_eq!(count(&app, "select count(*) from users").await, 0);
}

#[tokio::test]
async fn sso_url_validates_provider_redirect_and_pkce() {
    let idp = start_provider(json!({})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let (_, challenge) = pkce();
    let url = |body: Value| {
        let app = &app;
        async move { post(app, "/auth/sso/url", &body, None).await }
    };
    let (s, b) = url(json!({"provider": "nope", "redirect_url": REDIRECT})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "SSO_NOT_CONFIGURED");
    // SSO-12: a built-in provider that is not enabled
    let (s, b) = url(json!({"provider": "google", "redirect_url": REDIRECT})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "SSO_NOT_CONFIGURED");
    let (s, b) = url(json!({"provider": "acme"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // RED-01: not in the allowlist
    let (s, b) = url(json!({"provider": "acme", "redirect_url": "https://evil.test/cb"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (s, b) = url(json!({"provider": "acme", "redirect_url": REDIRECT,
                            "code_challenge": challenge, "code_challenge_method": "plain"}))
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (s, b) = url(json!({"provider": "acme", "redirect_url": REDIRECT,
                            "code_challenge": "short", "code_challenge_method": "S256"}))
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (s, b) = url(json!({"provider": "acme", "redirect_url": REDIRECT,
                            "code_challenge": challenge}))
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (s, b) =
        url(json!({"provider": "acme", "redirect_url": REDIRECT, "app_code": "ghost"})).await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn sso_12_disabled_provider_is_refused_at_every_step() {
    let idp = start_provider(json!({})).await;
    let mut vars = acme_env(&idp.issuer);
    vars.push(("SSO_ACME_ENABLED".to_owned(), "false".to_owned()));
    let app = start_app(&vars).await;
    let (status, list) = support::send(
        &app,
        reqwest::Method::GET,
        "/auth/sso/providers",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]));
    let (_, challenge) = pkce();
    let (s, b) = post(
        &app,
        "/auth/sso/url",
        &json!({"provider": "acme", "redirect_url": REDIRECT,
                "code_challenge": challenge, "code_challenge_method": "S256"}),
        None,
    )
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "SSO_NOT_CONFIGURED");
    // an auth code minted while the provider was on is worthless once it is off
    let user = support::user(&app, "alice@idp.test").await;
    let (verifier, challenge) = pkce();
    let record = json!({"user_id": user, "provider": "acme", "code_challenge": challenge,
                        "organization_id": null, "app_code": null,
                        "expires_at": chrono::Utc::now().timestamp() + 60});
    app.platform
        .cache
        .set_ex(
            &identity::flows::sso::state::auth_code_key("minted-before"),
            record.to_string().as_bytes(),
            std::time::Duration::from_secs(60),
            auth_cache::Fallback::Memory,
        )
        .await
        .expect("write");
    let (s, b) = exchange(&app, "minted-before", &verifier).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "SSO_NOT_CONFIGURED");
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn sso_10_provider_down_is_502_with_no_rows_and_an_audit_row() {
    // token and key endpoints on a closed port; discovery skipped by the overrides
    let dead = "http://127.0.0.1:1";
    let mut vars = acme_env(dead);
    for (k, v) in [
        ("SSO_ACME_AUTH_URL", format!("{dead}/auth")),
        ("SSO_ACME_TOKEN_URL", format!("{dead}/token")),
        ("SSO_ACME_JWKS_URL", format!("{dead}/jwks")),
    ] {
        vars.push((k.to_owned(), v));
    }
    let app = start_app(&vars).await;
    let (_, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    assert!(
        auth_url.starts_with("http://127.0.0.1:1/auth?"),
        "{auth_url}"
    );
    let (status, body) = callback(&app, "code", &state).await;
    assert_error(status, &body, StatusCode::BAD_GATEWAY, "SSO_PROVIDER_ERROR");
    assert_eq!(count(&app, "select count(*) from users").await, 0);
    assert!(
        support::audit_actions(&app)
            .await
            .contains(&"sso.failure".to_owned())
    );

    // discovery itself down: the URL cannot be built
    let app = start_app(&acme_env(dead)).await;
    let (s, b) = post(
        &app,
        "/auth/sso/url",
        &json!({"provider": "acme", "redirect_url": REDIRECT}),
        None,
    )
    .await;
    assert_error(s, &b, StatusCode::BAD_GATEWAY, "SSO_PROVIDER_ERROR");
}

#[tokio::test]
async fn sso_06_unverified_email_never_links_to_an_existing_account() {
    let idp =
        start_provider(json!({"mallory": account("mallory-sub", "victim@idp.test", false)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let victim = support::user(&app, "victim@idp.test").await;
    let (_, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "mallory").await;
    let (status, body) = callback(&app, &code, &state).await;
    assert_error(status, &body, StatusCode::CONFLICT, "USER_ALREADY_EXISTS");
    assert_eq!(
        count(&app, "select count(*) from user_auth_providers").await,
        0
    );
    assert_eq!(count(&app, "select count(*) from users").await, 1);
    let _ = victim;
}

#[tokio::test]
async fn sso_verified_email_links_existing_account_but_locked_and_totp_gates_hold() {
    let idp = start_provider(json!({"alice": account("alice-sub", "alice@idp.test", true)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let id = support::user(&app, "alice@idp.test").await;
    // PW-07: a locked account gets no auth code
    sqlx::query("update users set locked_until = now() + interval '10 minutes' where id = $1")
        .bind(id)
        .execute(&app.platform.db)
        .await
        .expect("lock");
    let (verifier, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (status, body) = callback(&app, &code, &state).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "USER_SUSPENDED");
    assert_eq!(
        count(&app, "select count(*) from user_auth_providers").await,
        0
    );

    sqlx::query("update users set locked_until = null where id = $1")
        .bind(id)
        .execute(&app.platform.db)
        .await
        .expect("unlock");
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (status, body) = callback(&app, &code, &state).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, login) =
        exchange(&app, body["auth_code"].as_str().expect("code"), &verifier).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["user"]["id"], id.to_string());
}

/// §5.5: an invitation code given at `/auth/sso/url` is accepted at callback time; the new
/// member's login is scoped to the inviting organisation. An unknown code refuses the
/// callback without creating the account.
#[tokio::test]
async fn sso_invite_code_is_accepted_at_callback_and_scopes_the_login() {
    let idp = start_provider(json!({
        "alice": account("alice-sub", "alice@idp.test", true),
        "bob": account("bob-sub", "bob@idp.test", true),
    }))
    .await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let owner = support::user(&app, "owner@example.com").await;
    let org: uuid::Uuid = sqlx::query_scalar(
        "insert into organizations (name, slug, owner_id) values ('Acme', 'acme', $1) returning id",
    )
    .bind(owner)
    .fetch_one(&app.platform.db)
    .await
    .expect("org");
    sqlx::query(
        "insert into invitations (organization_id, email, code, token, expires_at)
         values ($1, 'alice@idp.test', 'INV234', 'tok-inv', now() + interval '1 day')",
    )
    .bind(org)
    .execute(&app.platform.db)
    .await
    .expect("invitation");

    let start_with_code = |code: &'static str| {
        let app = &app;
        async move {
            let (verifier, challenge) = pkce();
            let (status, body) = post(
                app,
                "/auth/sso/url",
                &json!({"provider": "acme", "redirect_url": REDIRECT, "invite_code": code,
                        "code_challenge": challenge, "code_challenge_method": "S256"}),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let auth_url = body["auth_url"].as_str().expect("auth_url").to_owned();
            let state = body["state"].as_str().expect("state").to_owned();
            (verifier, auth_url, state)
        }
    };

    let (_, auth_url, state) = start_with_code("NOPE99").await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "bob").await;
    let (status, body) = callback(&app, &code, &state).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "INVITE_NOT_FOUND");
    assert_eq!(
        count(
            &app,
            "select count(*) from users where email = 'bob@idp.test'"
        )
        .await,
        0
    );

    let (verifier, auth_url, state) = start_with_code("INV234").await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (status, body) = callback(&app, &code, &state).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let auth_code = body["auth_code"].as_str().expect("auth_code").to_owned();
    let (status, login) = exchange(&app, &auth_code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["organization"]["id"], org.to_string());
    assert_eq!(
        count(
            &app,
            "select count(*) from invitations where code = 'INV234' and status = 'accepted'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from organization_members m join users u on u.id = m.user_id
             where u.email = 'alice@idp.test'"
        )
        .await,
        1
    );
}

/// SSO-03 / RFC 9207: an `iss` in the redirect that is not the flow's provider's issuer
/// refuses the callback (and burns the state); the provider's own issuer passes.
#[tokio::test]
async fn sso_03_foreign_iss_in_the_redirect_is_refused() {
    let idp = start_provider(json!({"alice": account("alice-sub", "alice@idp.test", true)})).await;
    let app = start_app(&acme_env(&idp.issuer)).await;
    let with_iss = |code: String, state: String, iss: String| {
        let app = &app;
        async move {
            post(
                app,
                "/auth/sso/callback",
                &json!({"provider": "acme", "code": code, "state": state, "iss": iss}),
                None,
            )
            .await
        }
    };

    let (_, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (status, body) = with_iss(code, state, "https://evil.example".to_owned()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "SSO_TOKEN_INVALID");
    assert_eq!(count(&app, "select count(*) from users").await, 0);

    let (_, challenge) = pkce();
    let (auth_url, state) = sso_url(&app, "acme", &challenge).await;
    let (code, _) = browser_login(&idp.issuer, &auth_url, "alice").await;
    let (status, body) = with_iss(code, state, idp.issuer.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["auth_code"].is_string(), "{body}");
}
