//! Races: RT-03 (simultaneous refreshes of one token) and SES-09 (revoke-sessions while the
//! user refreshes).

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::helpers::*;

const RACERS: usize = 16;
const ROUNDS: usize = 100;

async fn race(url: &str, token: &str) -> Vec<(StatusCode, Value)> {
    let barrier = Arc::new(Barrier::new(RACERS));
    let client = http();
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let barrier = barrier.clone();
            let client = client.clone();
            let url = url.to_owned();
            let body = json!({ "refresh_token": token });
            tokio::spawn(async move {
                barrier.wait().await;
                let resp = client.post(url).json(&body).send().await.expect("request");
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut out = Vec::with_capacity(RACERS);
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn rt_03_sixteen_simultaneous_refreshes_give_exactly_one_200_repeated_100_times() {
    let app = spawn().await;
    let url = app.api("/auth/refresh");
    let user = create_user(&app, &[]).await;
    for round in 0..ROUNDS {
        let issued = login(&app, user).await;
        let replies = race(&url, &issued.tokens.refresh_token).await;
        let winners: Vec<&Value> = replies
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {replies:?}");
        for (status, body) in &replies {
            assert!(
                *status == StatusCode::OK
                    || (*status == StatusCode::UNAUTHORIZED
                        && matches!(code(body), "TOKEN_INVALID" | "TOKEN_REVOKED")),
                "round {round}: {status} {body}"
            );
        }

        // database: one child of the presented row, no other family, at most one live row
        let children: i64 =
            sqlx::query_scalar("select count(*) from refresh_tokens where parent_id = $1")
                .bind(issued.refresh_token_id)
                .fetch_one(&app.platform.db)
                .await
                .expect("children");
        assert_eq!(children, 1, "round {round}");
        let (live, all) = family_rows(&app, issued.family_id).await;
        assert_eq!(all, 2, "round {round}");
        let reuse = replies.iter().any(|(_, b)| code(b) == "TOKEN_REVOKED");
        let winner = pair(winners[0]);
        let winner_row =
            Uuid::parse_str(payload(&winner.refresh_token)["tid"].as_str().expect("tid"))
                .expect("uuid");
        let winner_live: bool =
            sqlx::query_scalar("select revoked is not true from refresh_tokens where id = $1")
                .bind(winner_row)
                .fetch_one(&app.platform.db)
                .await
                .expect("winner row");
        if reuse {
            // a racer that read the row after the winner's commit is a replay (§5.2): the
            // family is dead, the winner's token too
            assert_eq!(live, 0, "round {round}");
            assert!(!winner_live, "round {round}");
        } else {
            assert_eq!(live, 1, "round {round}");
            assert!(winner_live, "round {round}");
        }
        let sessions: i64 = sqlx::query_scalar(
            "select count(*) from sessions s join refresh_tokens r on r.id = s.refresh_token_id
              where r.family_id = $1",
        )
        .bind(issued.family_id)
        .fetch_one(&app.platform.db)
        .await
        .expect("sessions");
        assert_eq!(sessions, 1, "round {round}: one session per family");
    }
    // one audit row per family that died, never one per racer
    let audits = audit_rows(&app, "refresh.reuse_detected").await;
    let families: std::collections::HashSet<String> = audits
        .iter()
        .map(|a| a["resource_id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(families.len(), audits.len());
}

#[tokio::test]
async fn ses_09_revoke_sessions_during_refreshes_leaves_no_live_token() {
    let app = spawn().await;
    let url = app.api("/auth/refresh");
    let (_, admin) = admin_token(&app, &["system_admin"]).await;
    for round in 0..10 {
        let user = create_user(&app, &[]).await;
        let chains: Vec<_> = futures::future::join_all((0..8).map(|_| login(&app, user))).await;
        let barrier = Arc::new(Barrier::new(chains.len() + 1));
        let mut tasks = Vec::new();
        for issued in chains {
            let barrier = barrier.clone();
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let mut token = issued.tokens.refresh_token;
                let mut minted = Vec::new();
                for _ in 0..5 {
                    let (status, body) = refresh(&url, &token).await;
                    if status != StatusCode::OK {
                        break;
                    }
                    let p = pair(&body);
                    token = p.refresh_token.clone();
                    minted.push(p);
                }
                minted
            }));
        }
        let revoke_url = app.api(&format!("/admin/users/{user}/revoke-sessions"));
        barrier.wait().await;
        let resp = http()
            .post(&revoke_url)
            .bearer_auth(&admin)
            .send()
            .await
            .expect("revoke");
        assert_eq!(resp.status(), StatusCode::OK, "round {round}");
        let mut minted = Vec::new();
        for t in tasks {
            minted.extend(t.await.expect("task"));
        }
        let live: i64 = sqlx::query_scalar(
            "select count(*) from refresh_tokens where user_id = $1 and revoked is not true",
        )
        .bind(user)
        .fetch_one(&app.platform.db)
        .await
        .expect("live rows");
        assert_eq!(
            live, 0,
            "round {round}: a refresh token survived revoke-sessions"
        );
        // no pair minted during the race still works
        for p in minted.iter().rev().take(3) {
            let (status, _) = refresh(&url, &p.refresh_token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "round {round}");
        }
        if let Some(last) = minted.last() {
            until_refused(
                &app.api("/auth/validate"),
                &last.access_token,
                std::time::Duration::from_secs(5),
            )
            .await;
        }
    }
}
