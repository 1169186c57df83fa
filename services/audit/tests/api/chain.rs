//! Tamper evidence: `GET /admin/audit-log/verify` names the first altered or removed row.

use std::time::Duration;

use serde_json::Value;
use testkit::TestClaims;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{admin, app, consumer, enqueue, get_json, tamper, wait_for_rows};

async fn verify(app: &testkit::TestApp) -> Value {
    let (status, body) = get_json(app, "/admin/audit-log/verify", Some(&admin())).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Rows written by the consumer, then one altered by a superuser behind the trigger's back:
/// the verification names it (AUD-09's optional hash chain).
#[tokio::test]
async fn aud09_an_altered_row_is_named() {
    let app = app().await;
    let db = &app.platform.db;
    let stop = CancellationToken::new();
    let task = consumer(&app, &stop);
    enqueue(db, 50, 10).await;
    wait_for_rows(db, 50, Duration::from_secs(20)).await;

    let ok = verify(&app).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["checked"], 50);
    assert_eq!(ok["head_seq"], 50);
    assert_eq!(ok["head_hash"].as_str().map(str::len), Some(64));
    assert!(ok.get("problem").is_none());

    let id: Uuid = sqlx::query_scalar("select id from audit_log where seq = 17")
        .fetch_one(db)
        .await
        .expect("row 17");
    tamper(
        db,
        "update audit_log set ip_address = '198.51.100.66' where seq = 17",
    )
    .await;
    let bad = verify(&app).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(bad["problem"]["reason"], "altered");
    assert_eq!(bad["problem"]["seq"], 17);
    assert_eq!(bad["problem"]["id"], id.to_string());
    assert_eq!(bad["checked"], 17);
    assert_eq!(bad["head_seq"], 16, "last good row");

    stop.cancel();
    task.await.expect("stops");
}

/// A row altered and re-hashed so that it matches itself is still caught by its successor's link.
#[tokio::test]
async fn a_rehashed_row_is_named_through_the_next_link() {
    let app = app().await;
    let db = &app.platform.db;
    for i in 0..5 {
        sqlx::query("insert into audit_log (action, details) values ('login.success', $1)")
            .bind(serde_json::json!({ "i": i }))
            .execute(db)
            .await
            .expect("insert");
    }
    tamper(
        db,
        "update audit_log set details = '{\"i\": 99}',
                hash = sha256(prev_hash || audit_log_canonical(audit_log.*))
         where seq = 3",
    )
    .await;
    let bad = verify(&app).await;
    assert_eq!(bad["problem"]["reason"], "altered", "{bad}");
    assert_eq!(bad["problem"]["seq"], 3);
}

/// A deleted row is reported as removed, by its position in the chain.
#[tokio::test]
async fn aud09_a_removed_row_is_named() {
    let app = app().await;
    let db = &app.platform.db;
    for _ in 0..10 {
        sqlx::query("insert into audit_log (action) values ('login.failed')")
            .execute(db)
            .await
            .expect("insert");
    }
    tamper(db, "delete from audit_log where seq in (4, 5)").await;
    let bad = verify(&app).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(bad["problem"]["reason"], "removed");
    assert_eq!(bad["problem"]["seq"], 4);
    assert_eq!(bad["problem"]["to_seq"], 5);

    // removing the oldest rows without a retention checkpoint is caught as well
    let app2 = crate::helpers::app().await;
    for _ in 0..3 {
        sqlx::query("insert into audit_log (action) values ('login.failed')")
            .execute(&app2.platform.db)
            .await
            .expect("insert");
    }
    tamper(&app2.platform.db, "delete from audit_log where seq = 1").await;
    let bad = verify(&app2).await;
    assert_eq!(bad["problem"]["reason"], "removed", "{bad}");
    assert_eq!(bad["problem"]["seq"], 1);
}

/// AUD-09: the application cannot update or delete audit rows, nor forge chain columns.
#[tokio::test]
async fn aud09_rows_stay_append_only_and_chain_columns_cannot_be_forged() {
    let app = app().await;
    let db = &app.platform.db;
    sqlx::query(
        "insert into audit_log (action, seq, prev_hash, hash)
         values ('login.success', 42, '\\x00', '\\x01')",
    )
    .execute(db)
    .await
    .expect("insert");
    let (seq, hash_len): (i64, i32) =
        sqlx::query_as("select seq, octet_length(hash) from audit_log")
            .fetch_one(db)
            .await
            .expect("row");
    assert_eq!(
        (seq, hash_len),
        (1, 32),
        "the trigger sets the chain columns"
    );
    for sql in [
        "update audit_log set action = 'x'",
        "delete from audit_log",
        "truncate audit_log",
    ] {
        let err = sqlx::query(sql).execute(db).await.expect_err(sql);
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
    assert_eq!(verify(&app).await["ok"], true);
}

#[tokio::test]
async fn only_platform_admins_verify() {
    let app = app().await;
    let (status, body) = get_json(&app, "/admin/audit-log/verify", None).await;
    assert_eq!(status, 401, "{body}");
    let user = TestClaims::user(Uuid::new_v4(), &["org_admin"]).sign();
    let (status, body) = get_json(&app, "/admin/audit-log/verify", Some(&user)).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "INSUFFICIENT_PERMISSIONS");
}
