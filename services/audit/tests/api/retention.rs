//! `AUDIT_RETENTION` and the NDJSON export.

use std::time::Duration;

use audit::retention::{RetentionConfig, run_once};
use chrono::Utc;
use serde_json::Value;
use sqlx::PgPool;
use testkit::TestClaims;
use uuid::Uuid;

use crate::helpers::{admin, app, app_with, count, get_json, tamper};

/// Inserts a row created `days_ago`.
async fn row_at(db: &PgPool, action: &str, days_ago: i32) {
    sqlx::query(
        "insert into audit_log (action, ip_address, created_at)
         values ($1, '203.0.113.7', now() - make_interval(days => $2))",
    )
    .bind(action)
    .bind(days_ago)
    .execute(db)
    .await
    .expect("insert");
}

async fn verify(app: &testkit::TestApp) -> Value {
    get_json(app, "/admin/audit-log/verify", Some(&admin()))
        .await
        .1
}

/// Rows past the retention go, oldest first, behind a checkpoint; the rest still verifies, and
/// a row removed after the purge is still caught.
#[tokio::test]
async fn retention_removes_old_rows_and_the_chain_still_verifies() {
    let app = app().await;
    let db = &app.platform.db;
    for d in [400, 380, 370] {
        row_at(db, "login.success", d).await;
    }
    row_at(db, "login.failed", 10).await;
    row_at(db, "login.success", 1).await;
    // old, but appended after a newer row: it waits for that one
    row_at(db, "login.success", 390).await;

    let cfg = RetentionConfig::new(Duration::from_secs(30 * 86_400));
    assert_eq!(run_once(db, &cfg, Utc::now()).await.expect("purge"), 3);
    assert_eq!(run_once(db, &cfg, Utc::now()).await.expect("again"), 0);
    let left: Vec<(i64, String)> = sqlx::query_as("select seq, action from audit_log order by seq")
        .fetch_all(db)
        .await
        .expect("rows");
    let seqs: Vec<i64> = left.iter().map(|r| r.0).collect();
    assert_eq!(seqs, [4, 5, 6, 7]);
    assert_eq!(left[3].1, "audit.retention_checkpoint");

    let ok = verify(&app).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["checkpoint_seq"], 7);
    assert_eq!(ok["checked"], 4);

    // the checkpoint is listed like any other event
    let (_, page) = get_json(
        &app,
        "/admin/audit-log?action=audit.retention_checkpoint",
        Some(&admin()),
    )
    .await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["entries"][0]["details"]["through_seq"], 3);
    assert_eq!(page["entries"][0]["details"]["removed"], 3);

    tamper(db, "delete from audit_log where seq = 4").await;
    let bad = verify(&app).await;
    assert_eq!(bad["problem"]["reason"], "removed", "{bad}");
    assert_eq!(bad["problem"]["seq"], 4);
}

/// The job started with the service applies `AUDIT_RETENTION` from the settings.
#[tokio::test]
async fn the_background_job_applies_audit_retention() {
    let app = app_with(&[("AUDIT_RETENTION", "720h")]).await;
    let db = &app.platform.db;
    row_at(db, "login.success", 31).await;
    row_at(db, "login.success", 29).await;
    audit::start_background(&app.platform);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while count(db).await != 2 || old_rows(db).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "retention did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // one row of 29 days and the checkpoint
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log order by seq")
        .fetch_all(db)
        .await
        .expect("rows");
    assert_eq!(actions, ["login.success", "audit.retention_checkpoint"]);
    app.platform.shutdown.cancel();
}

async fn old_rows(db: &PgPool) -> i64 {
    sqlx::query_scalar(
        "select count(*) from audit_log where created_at < now() - interval '30 days'",
    )
    .fetch_one(db)
    .await
    .expect("count")
}

/// The export streams NDJSON of a time range, oldest first, with the chain columns.
#[tokio::test]
async fn export_streams_a_time_range_as_ndjson() {
    let app = app().await;
    let db = &app.platform.db;
    for d in [20, 15, 10, 5] {
        row_at(db, "login.success", d).await;
    }
    for _ in 0..2100 {
        row_at(db, "login.failed", 1).await;
    }
    let since = (Utc::now() - chrono::Duration::days(16)).to_rfc3339();
    let until = (Utc::now() - chrono::Duration::days(7)).to_rfc3339();
    let url = format!(
        "{}?since={}&until={}",
        app.api("/admin/audit-log/export"),
        enc(&since),
        enc(&until)
    );
    let resp = reqwest::Client::new()
        .get(&url)
        .bearer_auth(admin())
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().ok(),
        Some("application/x-ndjson")
    );
    let text = resp.text().await.expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["seq"], 2);
    assert_eq!(lines[1]["seq"], 3);
    assert_eq!(lines[1]["prev_hash"], lines[0]["hash"]);
    assert_eq!(lines[0]["ip_address"], "203.0.113.7");

    // without bounds: everything, across several pages, in chain order
    let all = reqwest::Client::new()
        .get(app.api("/admin/audit-log/export"))
        .bearer_auth(admin())
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    let seqs: Vec<i64> = all
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["seq"]
                .as_i64()
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(seqs, (1..=2104).collect::<Vec<_>>());

    let (status, body) = get_json(
        &app,
        "/admin/audit-log/export?since=yesterday",
        Some(&admin()),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"]["field"], "since");
    let user = TestClaims::user(Uuid::new_v4(), &["base_user"]).sign();
    let (status, _) = get_json(&app, "/admin/audit-log/export", Some(&user)).await;
    assert_eq!(status, 403);
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
