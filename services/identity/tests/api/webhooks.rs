//! `user.registered` webhooks (§5.9) against a real HTTP receiver on loopback: queued in
//! the registration's transaction, delivered with the contract's retries (3 attempts,
//! 0 / 2 / 4 s, 4xx not retried), signed, and nothing queued by a failed registration.
//! The worker's clock is passed in ([`identity::webhooks::run_due`]), so no test waits for
//! a backoff.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Server};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::support::*;

const SECRET: &str = "whsec-0123456789-abcdefghijklmnopqrstuv";

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    headers: poem::http::HeaderMap,
    body: Vec<u8>,
}

/// A webhook receiver: answers with the scripted statuses in order (then 200).
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> (Self, String) {
        let receiver = Self {
            hits: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind receiver");
        let addr = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("tcp address");
        let state = receiver.clone();
        let endpoint = poem::endpoint::make(move |mut req: Request| {
            let state = state.clone();
            async move {
                let body = req.take_body().into_vec().await.unwrap_or_default();
                state.hits.lock().expect("hits").push(Hit {
                    headers: req.headers().clone(),
                    body,
                });
                let code = state.script.lock().expect("script").pop_front();
                poem::http::StatusCode::from_u16(code.unwrap_or(200)).expect("status")
            }
        });
        tokio::spawn(Server::new_with_acceptor(acceptor).run(endpoint));
        (receiver, format!("http://{addr}/hook?token=abc"))
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits").clone()
    }
}

async fn app_with_hook(app: &testkit::TestApp, code: &str, url: &str) -> Uuid {
    let id = app_row(app, code, true, "active").await;
    let hooks = json!([
        {"name": "crm", "url": url, "events": ["user.registered"], "enabled": true},
        {"name": "off", "url": url, "events": ["user.registered"], "enabled": false}
    ]);
    sqlx::query("update apps set webhooks = $2 where id = $1")
        .bind(id)
        .bind(hooks)
        .execute(&app.platform.db)
        .await
        .expect("webhooks");
    id
}

fn registration(email: &str, app_code: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "app_code": app_code,
        "referral": {"campaign": "spring"},
    })
}

/// `(attempts, last_status, last_error, next_run_at)` of every queued delivery.
async fn deliveries(
    app: &testkit::TestApp,
) -> Vec<(i32, String, Option<String>, Option<DateTime<Utc>>)> {
    sqlx::query_as(
        "select attempts, last_status, last_error, next_run_at from jobs
          where name like 'webhook:%' order by created_at",
    )
    .fetch_all(&app.platform.db)
    .await
    .expect("deliveries")
}

async fn run_at(app: &testkit::TestApp, now: DateTime<Utc>) -> identity::webhooks::Pass {
    let deliverer = identity::webhooks::deliverer(&app.platform).expect("deliverer");
    identity::webhooks::run_due(&app.platform, &deliverer, now)
        .await
        .expect("pass")
}

fn secs(s: i64) -> chrono::Duration {
    chrono::Duration::seconds(s)
}

#[tokio::test]
async fn user_registered_is_retried_after_500s_then_delivered_signed_with_the_contract_payload() {
    let app = start(&[("WEBHOOK_SECRET", SECRET)]).await;
    let (receiver, url) = Receiver::start(&[500, 503]).await;
    let app_id = app_with_hook(&app, "crm-app", &url).await;
    let mut body = registration("ada@example.com", "crm-app");
    body["organization_name"] = json!("Analytical Engines");
    let before = Utc::now();
    let resp = reqwest::Client::new()
        .post(app.api("/auth/register"))
        .header("user-agent", "signup-form/1.0")
        .json(&body)
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let reply: Value = resp.json().await.expect("reply");
    let user_id = reply["user"]["id"].as_str().expect("id").to_owned();
    // queued with the user, one delivery for the one enabled hook, due at once; the reply
    // did not wait for it (no worker runs in this test)
    assert!(receiver.hits().is_empty());
    let queued = deliveries(&app).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let t0 = queued[0].3.expect("due");
    assert_eq!((queued[0].0, queued[0].1.as_str()), (0, "pending"));
    assert!(t0 >= before - secs(1) && t0 <= Utc::now() + secs(1));

    // attempt 1 at t0: 500, retry due 2 s later
    let pass = run_at(&app, t0).await;
    assert_eq!((pass.attempts, pass.delivered), (1, 0));
    let row = &deliveries(&app).await[0];
    assert_eq!(
        (row.0, row.1.as_str(), row.2.as_deref(), row.3),
        (1, "pending", Some("HTTP 500"), Some(t0 + secs(2)))
    );
    // not due before then
    assert_eq!(run_at(&app, t0 + secs(1)).await.attempts, 0);
    assert_eq!(receiver.hits().len(), 1);
    // attempt 2: 503, retry due 4 s after it
    let t2 = t0 + secs(2);
    assert_eq!(run_at(&app, t2).await.attempts, 1);
    let row = &deliveries(&app).await[0];
    assert_eq!(
        (row.0, row.2.as_deref(), row.3),
        (2, Some("HTTP 503"), Some(t2 + secs(4)))
    );
    // attempt 3: 200, delivered, nothing left to do
    let pass = run_at(&app, t2 + secs(4)).await;
    assert_eq!((pass.attempts, pass.delivered), (1, 1));
    let row = &deliveries(&app).await[0];
    assert_eq!((row.0, row.1.as_str(), row.3), (3, "delivered", None));
    assert_eq!(run_at(&app, t0 + secs(3600)).await.attempts, 0);

    let hits = receiver.hits();
    assert_eq!(hits.len(), 3, "attempt count");
    let delivery = hits[0].headers["x-vendidit-delivery"].clone();
    for hit in &hits {
        assert_eq!(hit.headers["x-vendidit-event"], "user.registered");
        assert_eq!(hit.headers["content-type"], "application/json");
        assert_eq!(
            hit.headers["x-vendidit-delivery"], delivery,
            "same id on retries"
        );
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(&hit.body);
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(hit.headers["x-vendidit-signature"], expected.as_str());
    }
    let event: Value = serde_json::from_slice(&hits[2].body).expect("json body");
    assert_eq!(event["event"], "user.registered");
    assert!(
        event["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(
        event["app"],
        json!({"id": app_id, "code": "crm-app", "name": "crm-app"})
    );
    assert_eq!(event["user"]["id"], user_id.as_str());
    assert_eq!(event["user"]["email"], "ada@example.com");
    assert_eq!(event["user"]["first_name"], "Ada");
    assert_eq!(event["user"]["last_name"], "Lovelace");
    assert_eq!(event["user"]["namespace"], "default");
    assert_eq!(event["user"]["pools"], json!(["default"]));
    assert_eq!(event["organization"]["name"], "Analytical Engines");
    assert_eq!(event["organization"]["slug"], "analytical-engines");
    assert_eq!(event["organization"]["id"], reply["organization"]["id"]);
    // the body minus password, unknown fields included
    let reg = &event["registration"];
    assert_eq!(reg["email"], "ada@example.com");
    assert_eq!(reg["referral"], json!({"campaign": "spring"}));
    assert!(reg.get("password").is_none(), "{reg}");
    assert!(!String::from_utf8_lossy(&hits[2].body).contains(PASSWORD));
    assert_eq!(event["context"]["ip"], "127.0.0.1");
    assert_eq!(event["context"]["user_agent"], "signup-form/1.0");
    assert!(
        event["context"]["server"]
            .as_str()
            .is_some_and(|s| s.starts_with("127.0.0.1:"))
    );
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_failed_registrations_queue_nothing() {
    let app = start(&[]).await;
    let (receiver, url) = Receiver::start(&[404]).await;
    app_with_hook(&app, "crm-app", &url).await;
    // a registration that fails half-way (unknown invitation) leaves neither user nor job
    let mut body = registration("ada@example.com", "crm-app");
    body["invite_code"] = json!("NOPE42");
    let (status, reply) = post(&app, "/auth/register", &body, None).await;
    assert_error(status, &reply, StatusCode::NOT_FOUND, "INVITE_NOT_FOUND");
    assert!(deliveries(&app).await.is_empty());
    assert_eq!(count(&app, "select count(*) from users").await, 0);

    let (status, reply) = post(
        &app,
        "/auth/register",
        &registration("ada@example.com", "crm-app"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // a collision queues nothing more
    let (status, _) = post(
        &app,
        "/auth/register",
        &registration("ada@example.com", "crm-app"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(deliveries(&app).await.len(), 1);

    let t0 = deliveries(&app).await[0].3.expect("due");
    let pass = run_at(&app, t0).await;
    assert_eq!((pass.attempts, pass.failed), (1, 1));
    let row = &deliveries(&app).await[0];
    assert_eq!(
        (row.0, row.1.as_str(), row.2.as_deref(), row.3),
        (1, "failed", Some("HTTP 404"), None)
    );
    assert_eq!(run_at(&app, t0 + secs(60)).await.attempts, 0);
    assert_eq!(receiver.hits().len(), 1);
    // no WEBHOOK_SECRET: unsigned
    assert!(
        receiver.hits()[0]
            .headers
            .get("x-vendidit-signature")
            .is_none()
    );
}

#[tokio::test]
async fn the_worker_delivers_as_soon_as_the_registration_commits() {
    let app = start(&[]).await;
    let (receiver, url) = Receiver::start(&[]).await;
    app_with_hook(&app, "crm-app", &url).await;
    let worker = identity::webhooks::start(&app.platform);
    let (status, reply) = post(
        &app,
        "/auth/register",
        &registration("ada@example.com", "crm-app"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // woken by the commit's notification, not by its 5 s poll (the wait below is shorter)
    let delivered = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            let rows = deliveries(&app).await;
            if rows.first().is_some_and(|r| r.1 == "delivered") {
                return rows;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("delivered in time");
    assert_eq!(delivered[0].0, 1);
    assert_eq!(receiver.hits().len(), 1);
    app.platform.shutdown.cancel();
    worker.await.expect("worker stops on shutdown");
}
