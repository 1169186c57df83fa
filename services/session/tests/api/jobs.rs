//! `/admin/jobs*` (contract §2.11): gates, status, trigger (202) with the rows each cleanup
//! removes and keeps, pause/resume, the schedule, and one runner per job across replicas.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use session::domain::jobs::JobName;
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::helpers::*;

async fn call(method: reqwest::Method, url: &str, bearer: &str) -> (StatusCode, Value) {
    let resp = http()
        .request(method, url)
        .bearer_auth(bearer)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Polls the job until a run that started after `since` has finished.
async fn finished_after(app: &testkit::TestApp, admin: &str, name: &str, since: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, job) = call(
            reqwest::Method::GET,
            &app.api(&format!("/admin/jobs/{name}")),
            admin,
        )
        .await;
        let done = job["last_status"] == "succeeded"
            && job["last_run_at"].as_str().is_some_and(|t| t >= since);
        if done {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name} did not run: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn job_routes_are_for_platform_admins_super_admin_included() {
    let app = spawn().await;
    let (_, plain) = admin_token(&app, &[]).await;
    let (_, super_admin) = admin_token(&app, &["super_admin"]).await;
    let (_, admin) = admin_token(&app, &["system_admin"]).await;
    let get = reqwest::Method::GET;
    let (status, body) = call(get.clone(), &app.api("/admin/jobs"), &plain).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS")
    );
    // decision §9.8: super_admin may use every platform-admin route but apps, m2m, registry
    // and pools; a base user is refused on every job route
    let post = reqwest::Method::POST;
    let job = "/admin/jobs/cleanup.sessions";
    for (method, path) in [
        (get.clone(), "/admin/jobs".to_owned()),
        (get.clone(), job.to_owned()),
        (post.clone(), format!("{job}/trigger")),
        (post.clone(), format!("{job}/pause")),
        (post.clone(), format!("{job}/resume")),
    ] {
        let (status, body) = call(method.clone(), &app.api(&path), &plain).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "INSUFFICIENT_PERMISSIONS"),
            "{path}"
        );
        let (status, body) = call(method, &app.api(&path), &super_admin).await;
        let want = if path.ends_with("/trigger") {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        assert_eq!(status, want, "super_admin {path}: {body}");
    }

    let (status, body) = call(get.clone(), &app.api("/admin/jobs"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "cleanup.email_verification_tokens",
            "cleanup.password_reset_tokens",
            "cleanup.refresh_tokens",
            "cleanup.sessions"
        ]
    );
    assert_eq!(body["jobs"][0]["interval_seconds"], json!(3600));
    assert_eq!(body["jobs"][0]["paused"], json!(false));

    for (method, path) in [
        (get.clone(), "/admin/jobs/cleanup.nothing"),
        (reqwest::Method::POST, "/admin/jobs/cleanup.nothing/trigger"),
        (reqwest::Method::POST, "/admin/jobs/cleanup.nothing/pause"),
        (reqwest::Method::POST, "/admin/jobs/cleanup.nothing/resume"),
    ] {
        let (status, body) = call(method, &app.api(path), &admin).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "{path}"
        );
        assert_eq!(body["error"]["message"], "job not found");
    }
}

#[tokio::test]
async fn triggered_cleanups_remove_dead_rows_and_keep_live_ones() {
    let app = spawn().await;
    let (_, admin) = admin_token(&app, &["system_admin"]).await;
    let db = &app.platform.db;
    let user = create_user(&app, &[]).await;

    let live = login(&app, user).await;
    let expired = login(&app, user).await;
    sqlx::query("update refresh_tokens set expires_at = now() - interval '1 hour' where id = $1;")
        .bind(expired.refresh_token_id)
        .execute(db)
        .await
        .expect("expire");
    // a family killed two days ago, and one killed just now (kept for reuse audits)
    let dead_old = login(&app, user).await;
    let dead_new = login(&app, user).await;
    sqlx::query(
        "update refresh_tokens set revoked = true, revoked_at = now() - interval '2 days'
          where id = $1",
    )
    .bind(dead_old.refresh_token_id)
    .execute(db)
    .await
    .expect("revoke old");
    sqlx::query("update refresh_tokens set revoked = true, revoked_at = now() where id = $1")
        .bind(dead_new.refresh_token_id)
        .execute(db)
        .await
        .expect("revoke new");
    sqlx::query(
        "insert into revoked_access_tokens (jti, expires_at) values
             ($1, now() - interval '1 minute'), ($2, now() + interval '10 minutes')",
    )
    .bind(Uuid::new_v4())
    .bind(Uuid::new_v4())
    .execute(db)
    .await
    .expect("revoked jtis");
    for table in ["password_reset_tokens", "email_verification_tokens"] {
        let extra = if table == "email_verification_tokens" {
            ", email"
        } else {
            ""
        };
        let extra_value = if table == "email_verification_tokens" {
            ", 'a@b.c'"
        } else {
            ""
        };
        sqlx::query(&format!(
            "insert into {table} (user_id, token_hash, expires_at, used{extra}) values
                 ($1, 'a', now() + interval '1 hour', false{extra_value}),
                 ($1, 'b', now() + interval '1 hour', true{extra_value}),
                 ($1, 'c', now() - interval '1 hour', false{extra_value})"
        ))
        .bind(user)
        .execute(db)
        .await
        .expect("purpose tokens");
    }

    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let since = since.as_str();
    for name in [
        "cleanup.refresh_tokens",
        "cleanup.sessions",
        "cleanup.password_reset_tokens",
        "cleanup.email_verification_tokens",
    ] {
        let (status, body) = call(
            reqwest::Method::POST,
            &app.api(&format!("/admin/jobs/{name}/trigger")),
            &admin,
        )
        .await;
        assert_eq!(
            (status, body),
            (StatusCode::ACCEPTED, json!({"triggered": name}))
        );
        let job = finished_after(&app, &admin, name, since).await;
        assert_eq!(job["running"], json!(false));
        assert!(job["next_run_at"].is_string());
    }

    let remaining: Vec<Uuid> =
        sqlx::query_scalar("select id from refresh_tokens where user_id = $1 order by id")
            .bind(user)
            .fetch_all(db)
            .await
            .expect("rows");
    let mut expected = vec![live.refresh_token_id, dead_new.refresh_token_id];
    expected.sort();
    assert_eq!(remaining, expected);
    let sessions: Vec<Uuid> =
        sqlx::query_scalar("select id from sessions where user_id = $1 order by id")
            .bind(user)
            .fetch_all(db)
            .await
            .expect("sessions");
    // the dead-but-recent family's session is kept: it is not terminated
    let mut expected = vec![live.session_id, dead_new.session_id];
    expected.sort();
    assert_eq!(sessions, expected);
    let jtis: i64 = sqlx::query_scalar("select count(*) from revoked_access_tokens")
        .fetch_one(db)
        .await
        .expect("jtis");
    assert_eq!(jtis, 1);
    for table in ["password_reset_tokens", "email_verification_tokens"] {
        let left: Vec<String> = sqlx::query_scalar(&format!(
            "select token_hash from {table} where user_id = $1"
        ))
        .bind(user)
        .fetch_all(db)
        .await
        .expect("left");
        assert_eq!(left, ["a"], "{table}");
    }
    // the live session still works after the cleanup
    let (status, _) = refresh(&app.api("/auth/refresh"), &live.tokens.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn pause_and_resume_drive_the_schedule_of_every_replica() {
    let app = spawn().await;
    let (_, admin) = admin_token(&app, &["system_admin"]).await;
    let post = reqwest::Method::POST;
    let (status, body) = call(
        post.clone(),
        &app.api("/admin/jobs/cleanup.sessions/pause"),
        &admin,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"paused": "cleanup.sessions"}))
    );
    let (_, job) = call(
        reqwest::Method::GET,
        &app.api("/admin/jobs/cleanup.sessions"),
        &admin,
    )
    .await;
    assert_eq!(job["paused"], json!(true));

    // the scheduler (short tick) runs every due job except the paused one
    let scheduler = session::jobs::start_with_tick(&app.platform, Duration::from_millis(50));
    let start = Instant::now();
    loop {
        let ran: i64 =
            sqlx::query_scalar("select count(*) from jobs where last_status = 'succeeded'")
                .fetch_one(&app.platform.db)
                .await
                .expect("jobs");
        if ran == 3 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{ran} jobs ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let paused_ran: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select last_started_at from jobs where name = 'cleanup.sessions'")
            .fetch_one(&app.platform.db)
            .await
            .expect("paused job");
    assert_eq!(paused_ran, None);

    let (status, body) = call(
        post,
        &app.api("/admin/jobs/cleanup.sessions/resume"),
        &admin,
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"resumed": "cleanup.sessions"}))
    );
    let start = Instant::now();
    loop {
        let status: Option<String> =
            sqlx::query_scalar("select last_status from jobs where name = 'cleanup.sessions'")
                .fetch_one(&app.platform.db)
                .await
                .expect("job");
        if status.as_deref() == Some("succeeded") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "resumed job did not run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop(&app);
    scheduler.await.expect("scheduler stops on shutdown");
}

#[tokio::test]
async fn one_claim_wins_among_sixteen_replicas() {
    let app = spawn().await;
    let barrier = Arc::new(Barrier::new(16));
    let now = chrono::Utc::now();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let db = app.platform.db.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                session::repo::jobs::claim(&db, Some(JobName::Sessions), now)
                    .await
                    .expect("claim")
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.expect("task").is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    // while it runs nobody else may claim it, trigger or not
    let again = session::repo::jobs::claim(&app.platform.db, Some(JobName::Sessions), now)
        .await
        .expect("claim");
    assert_eq!(again, None);
}
