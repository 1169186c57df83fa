//! Revocation across processes: after a token-version bump (what logout-all does), every
//! replica refuses the user's older access tokens on their next use, without a database read
//! per request: the NATS key-value watcher in each process sees the new version.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::process::TEST_API_PREFIX;
use testkit::{ServiceProcess, TestClaims, unique_prefix};
use uuid::Uuid;

use crate::support::{Platform, client};

fn access_token(user_id: Uuid, tv: u64) -> String {
    TestClaims {
        tv,
        email: "e2e@example.com".to_owned(),
        ..TestClaims::user(user_id, &["base_user"])
    }
    .sign()
}

async fn me(base: &str, token: &str) -> (StatusCode, Value) {
    let resp = client()
        .get(format!("{base}{TEST_API_PREFIX}/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn wait_until_refused(base: &str, token: &str) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let (status, body) = me(base, token).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(body["error"]["code"], "TOKEN_REVOKED", "{body}");
            return start.elapsed();
        }
        assert_eq!(status, StatusCode::OK, "{body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{base} still accepts the revoked token after 10 s");
}

#[tokio::test]
async fn a_token_version_bump_is_refused_by_every_replica() {
    let platform = Platform::start().await;
    let replica = ServiceProcess::spawn("identity", &platform.env.vars(), "IDENTITY_PORT")
        .await
        .expect("second identity process");
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (email, first_name, last_name, status) values ($1, 'End', 'ToEnd', 'active') returning id",
    )
    .bind(format!("{}@example.com", unique_prefix("e2e")))
    .fetch_one(platform.env.db.pool())
    .await
    .expect("user");

    let old = access_token(user_id, 0);
    let via_ingress = platform.ingress.base_url();
    for base in [via_ingress.as_str(), replica.base_url().as_str()] {
        let (status, body) = me(base, &old).await;
        assert_eq!(status, StatusCode::OK, "{base}: {body}");
        assert_eq!(body["user_id"], user_id.to_string());
        assert_eq!(body["user"]["email"], "e2e@example.com");
    }

    let bus = auth_bus::Bus::connect(auth_bus::BusConfig::new(
        std::env::var("NATS_URL").expect("NATS_URL"),
        platform.env.nats_prefix.clone(),
    ))
    .await
    .expect("bus");
    assert!(
        bus.wait_connected(Duration::from_secs(5)).await,
        "NATS not reachable"
    );
    let version = auth_bus::bump_token_version(platform.env.db.pool(), user_id, Some(&bus), None)
        .await
        .expect("bump");
    assert_eq!(version, 1);

    let ingress_delay = wait_until_refused(&via_ingress, &old).await;
    let replica_delay = wait_until_refused(&replica.base_url(), &old).await;
    println!("revocation seen after {ingress_delay:?} (ingress) and {replica_delay:?} (replica)");

    let validate = client()
        .post(format!("{via_ingress}{TEST_API_PREFIX}/auth/validate"))
        .json(&json!({"token": old}))
        .send()
        .await
        .expect("validate");
    assert_eq!(
        validate.json::<Value>().await.expect("json"),
        json!({"valid": false})
    );

    let fresh = access_token(user_id, 1);
    for base in [via_ingress.as_str(), replica.base_url().as_str()] {
        let (status, body) = me(base, &fresh).await;
        assert_eq!(status, StatusCode::OK, "{base}: {body}");
    }
    let validate = client()
        .post(format!("{via_ingress}{TEST_API_PREFIX}/auth/validate"))
        .json(&json!({"token": fresh}))
        .send()
        .await
        .expect("validate");
    let body: Value = validate.json().await.expect("json");
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["user_id"], user_id.to_string());
}
