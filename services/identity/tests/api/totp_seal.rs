//! TOTP seeds at rest (MFA-08): sealed with an AEAD under a key from the settings, a
//! legacy plaintext seed (imported from the original server) still works and is re-sealed
//! on its first use, a seed sealed under a previous key too, and the seed is shown once.

use identity::domain::totp_seal::TotpSealer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

const KEY: &str = "k7Vq2mZ9xR4tB8nW1cY6pL3sD0fH5jGa";
const OLD_KEY: &str = "Qw8eR2tY6uI0oP4aS9dF3gH7jK1lZ5xC";

async fn stored_seed(app: &testkit::TestApp, user: Uuid) -> String {
    sqlx::query_scalar("select two_factor_secret from users where id = $1")
        .bind(user)
        .fetch_one(&app.platform.db)
        .await
        .expect("seed")
}

async fn login_code(app: &testkit::TestApp, email: &str, code: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/login",
        &json!({"email": email, "password": PASSWORD, "two_factor_code": code}),
        None,
    )
    .await
}

#[tokio::test]
async fn mfa_08_seed_is_sealed_at_rest_shown_once_and_logins_still_work() {
    let app = start(&[("TOTP_ENCRYPTION_KEY", KEY)]).await;
    let id = user(&app, "ada@example.com").await;
    let access = access_token(&app, "ada@example.com").await;
    let (status, setup) = post(&app, "/auth/2fa/setup", &json!({}), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    // 160 bits from the CSPRNG, base32
    assert_eq!(secret.len(), 32);
    let stored = stored_seed(&app, id).await;
    assert!(stored.starts_with("v1:"), "{stored}");
    assert!(!stored.contains(&secret), "the column holds no base32 seed");
    // sealed under TOTP_ENCRYPTION_KEY, bound to this user
    let sealer = TotpSealer::from_masters(KEY, []);
    assert_eq!(sealer.open(id, &stored).expect("opens").secret_b32, secret);
    assert!(sealer.open(Uuid::new_v4(), &stored).is_err());

    let (status, _) = post(
        &app,
        "/auth/2fa/enable",
        &json!({"code": totp_code(&secret, 0)}),
        Some(&access),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, reply) = login_code(&app, "ada@example.com", &totp_code(&secret, 1)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    // not retrievable later: no reply carries the seed or the URI again
    let (status, me) = send(&app, reqwest::Method::GET, "/auth/me", None, Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let text = me.to_string();
    assert!(
        !text.contains(&secret) && !text.contains("otpauth"),
        "{text}"
    );
    let (status, again) = post(&app, "/auth/2fa/setup", &json!({}), Some(&access)).await;
    assert_error(status, &again, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(!again.to_string().contains(&secret));
}

#[tokio::test]
async fn mfa_08_legacy_plaintext_seed_works_and_is_resealed_on_first_use() {
    let app = start(&[]).await;
    // an imported row: the base32 seed in clear, as the original server stored it
    let id = totp_user(&app, "bob@example.com").await;
    assert_eq!(stored_seed(&app, id).await, TOTP_SECRET);
    let (status, reply) = login_code(&app, "bob@example.com", &wrong_totp_code(TOTP_SECRET)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(
        stored_seed(&app, id).await,
        TOTP_SECRET,
        "no upgrade on a wrong code"
    );

    let (status, reply) = login_code(&app, "bob@example.com", &totp_code(TOTP_SECRET, 0)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let stored = stored_seed(&app, id).await;
    assert!(
        stored.starts_with("v1:") && !stored.contains(TOTP_SECRET),
        "{stored}"
    );
    // without TOTP_ENCRYPTION_KEY the key derives from JWT_ACCESS_SECRET
    let sealer = identity::state::totp_sealer(&app.platform.settings);
    let opened = sealer.open(id, &stored).expect("opens");
    assert_eq!(opened.secret_b32, TOTP_SECRET);
    assert!(!opened.needs_reseal);
    // the re-sealed seed keeps working
    let (status, reply) = login_code(&app, "bob@example.com", &totp_code(TOTP_SECRET, 1)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

#[tokio::test]
async fn mfa_08_seed_sealed_under_the_previous_key_works_and_moves_to_the_new_key() {
    let app = start(&[
        ("TOTP_ENCRYPTION_KEY", KEY),
        ("TOTP_ENCRYPTION_KEY_PREVIOUS", OLD_KEY),
    ])
    .await;
    let id = totp_user(&app, "cy@example.com").await;
    let old = TotpSealer::from_masters(OLD_KEY, [])
        .seal(id, TOTP_SECRET)
        .expect("seal");
    exec(
        &app,
        &format!("update users set two_factor_secret = '{old}' where id = '{id}'"),
    )
    .await;
    let (status, reply) = login_code(&app, "cy@example.com", &totp_code(TOTP_SECRET, 0)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let stored = stored_seed(&app, id).await;
    assert_ne!(stored, old);
    let opened = TotpSealer::from_masters(KEY, [])
        .open(id, &stored)
        .expect("now under the new key");
    assert_eq!(opened.secret_b32, TOTP_SECRET);

    // a seed no configured key opens is refused like a wrong code (and logged)
    let foreign = TotpSealer::from_masters("Zz9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF", [])
        .seal(id, TOTP_SECRET)
        .expect("seal");
    exec(
        &app,
        &format!("update users set two_factor_secret = '{foreign}' where id = '{id}'"),
    )
    .await;
    let (status, reply) = login_code(&app, "cy@example.com", &totp_code(TOTP_SECRET, 1)).await;
    assert_eq!(
        (status, reply),
        (StatusCode::UNAUTHORIZED, json!({"requires_2fa": true}))
    );
}
