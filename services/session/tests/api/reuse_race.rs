//! RT-02 / RT-03: a spent token replayed while the family's newest token is being rotated
//! must still kill the whole family (contract §5.2), whichever commits first.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::helpers::*;

const REPLAYS: usize = 8;
const ROTATIONS: usize = 8;
const ROUNDS: usize = 60;

#[tokio::test]
async fn rt_02_rt_03_replay_racing_rotation_of_newest_token_kills_family_every_round() {
    let app = spawn().await;
    let url = app.api("/auth/refresh");
    let user = create_user(&app, &[]).await;
    let client = http();
    for round in 0..ROUNDS {
        let issued = login(&app, user).await;
        let spent = issued.tokens.refresh_token.clone();
        let (status, body) = refresh(&url, &spent).await;
        assert_eq!(status, StatusCode::OK, "round {round}: {body}");
        let newest = pair(&body).refresh_token;

        let barrier = Arc::new(Barrier::new(REPLAYS + ROTATIONS));
        let tasks: Vec<_> = (0..REPLAYS + ROTATIONS)
            .map(|i| {
                let token = if i % 2 == 0 { &spent } else { &newest };
                let body = json!({ "refresh_token": token });
                let (barrier, client, url) = (barrier.clone(), client.clone(), url.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let resp = client.post(url).json(&body).send().await.expect("request");
                    let status = resp.status();
                    (status, resp.json::<Value>().await.unwrap_or(Value::Null))
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            let (status, body) = t.await.expect("task");
            if i % 2 == 0 {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "round {round}: replay {body}"
                );
                assert_eq!(code(&body), "TOKEN_REVOKED", "round {round}: {body}");
            } else {
                assert!(
                    status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                    "round {round}: {status} {body}"
                );
            }
        }

        let (live, _) = family_rows(&app, issued.family_id).await;
        assert_eq!(live, 0, "round {round}: a refresh row survived the replay");
        let live_sessions: i64 = sqlx::query_scalar(
            "select count(*) from sessions
              where terminated is not true
                and refresh_token_id in (select id from refresh_tokens where family_id = $1)",
        )
        .bind(issued.family_id)
        .fetch_one(&app.platform.db)
        .await
        .expect("sessions");
        assert_eq!(
            live_sessions, 0,
            "round {round}: the family's session survived"
        );
        let audits = audit_rows(&app, "refresh.reuse_detected").await;
        let for_family = audits
            .iter()
            .filter(|a| a["resource_id"] == json!(issued.family_id.to_string()))
            .count();
        assert_eq!(
            for_family, 1,
            "round {round}: one reuse audit per family death"
        );
    }
}

/// The same race made deterministic: a rotation of the newest token is held open in a test
/// transaction, the replay is sent and seen waiting on its lock, then the rotation commits.
#[tokio::test]
async fn rt_02_replay_waiting_on_a_committing_rotation_still_revokes_the_new_child() {
    let app = spawn().await;
    let url = app.api("/auth/refresh");
    let user = create_user(&app, &[]).await;
    let issued = login(&app, user).await;
    let spent = issued.tokens.refresh_token.clone();
    let (status, body) = refresh(&url, &spent).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let newest = payload(&pair(&body).refresh_token)["tid"]
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .expect("tid");

    let mut rotation = app.platform.db.begin().await.expect("begin");
    let child = auth_tokens::NewRefreshRow {
        id: uuid::Uuid::new_v4(),
        token_hash: auth_tokens::new_token_hash().expect("hash"),
        expires_at: chrono::Utc::now() + chrono::Duration::days(1),
        organization_id: None,
        app_id: None,
        device: auth_tokens::DeviceInfo::default(),
    };
    let rotated = auth_tokens::rotate(&mut rotation, newest, &child, chrono::Utc::now())
        .await
        .expect("rotate")
        .expect("the newest row rotates");

    let replay = tokio::spawn({
        let url = url.clone();
        async move { refresh(&url, &spent).await }
    });
    // wait until the replay's revocation is blocked on the row being rotated
    let start = std::time::Instant::now();
    loop {
        let waiting: bool = sqlx::query_scalar(
            "select exists (select 1 from pg_stat_activity
                             where datname = current_database() and wait_event_type = 'Lock'
                               and query ilike '%update refresh_tokens%')",
        )
        .fetch_one(&app.platform.db)
        .await
        .expect("pg_stat_activity");
        if waiting {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "replay never blocked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    rotation.commit().await.expect("commit rotation");

    let (status, body) = replay.await.expect("replay");
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(code(&body), "TOKEN_REVOKED", "{body}");
    let (live, all) = family_rows(&app, issued.family_id).await;
    assert_eq!(
        (live, all),
        (0, 3),
        "the child committed during the replay survived"
    );
    let terminated: Option<bool> =
        sqlx::query_scalar("select terminated from sessions where id = $1")
            .bind(rotated.session_id)
            .fetch_one(&app.platform.db)
            .await
            .expect("session");
    assert_eq!(terminated, Some(true), "the family's session survived");
    assert_eq!(audit_rows(&app, "refresh.reuse_detected").await.len(), 1);
}
