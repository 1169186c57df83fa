//! `POST /auth/validate` bodies (contract §2.1): 400 only for unparsable JSON, otherwise 200.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_raw(url: &str, body: &str) -> (StatusCode, Value) {
    let resp = http()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn validate_parsable_body_without_a_string_token_is_200_not_valid() {
    let app = spawn().await;
    let url = app.api("/auth/validate");
    for body in [
        "{}",
        r#"{"token": null}"#,
        r#"{"token": 5}"#,
        r#"{"token": [1]}"#,
        r#"{"token": ""}"#,
        r#"{"token": "not-a-jwt", "extra": true}"#,
    ] {
        let (status, reply) = post_raw(&url, body).await;
        assert_eq!(
            (status, reply),
            (StatusCode::OK, json!({"valid": false})),
            "{body}"
        );
    }
    // a real token still validates
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    assert!(is_valid(&url, &issued.tokens.access_token).await);
}

#[tokio::test]
async fn validate_unparsable_json_is_400_invalid_input() {
    let app = spawn().await;
    let url = app.api("/auth/validate");
    for body in ["{\"token\":", "not json", "[1,2"] {
        let (status, reply) = post_raw(&url, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&reply), "INVALID_INPUT", "{body}: {reply}");
    }
}
