//! Refresh rotation in one conditional statement (ARCHITECTURE §8, contract §5.2):
//! RT-01, RT-03 (concurrent rotations), RT-05 (same-second replays), family revocation.

use std::sync::Arc;

use auth_tokens::{
    DeviceInfo, Family, IssueError, IssuedPair, NewRefreshRow, assemble, issue_pair,
    new_token_hash, revoke_family, rotate,
};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use sqlx::{Connection, PgConnection};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::fixtures::*;

pub async fn login(ctx: &Ctx, email: &str) -> (Uuid, IssuedPair) {
    let mut c = ctx.conn().await;
    let user = create_user(&mut c, email).await;
    add_base_role(&mut c, user, "base_user").await;
    let grants = assemble(&mut c, user, None, None).await.expect("grants");
    let req = login_request(identity(user, email), grants);
    let issued = issue_pair(&mut c, &ctx.signer, &req).await.expect("login");
    (user, issued)
}

pub fn new_row(expires_at: DateTime<Utc>) -> NewRefreshRow {
    NewRefreshRow {
        id: Uuid::new_v4(),
        token_hash: new_token_hash().expect("random"),
        expires_at,
        organization_id: None,
        app_id: None,
        device: DeviceInfo {
            ip: Some("198.51.100.1".into()),
            user_agent: Some("rotator".into()),
        },
    }
}

pub fn now(ctx: &Ctx) -> DateTime<Utc> {
    use auth_tokens::Clock as _;
    DateTime::from_timestamp_millis(ctx.clock.now_ms()).expect("in range")
}

/// (live rows, all rows) of a family, and its live sessions as (id, refresh_token_id); a NULL
/// `revoked` / `terminated` (adopted rows) counts as false.
pub async fn family_state(c: &mut PgConnection, family: Uuid) -> (i64, i64, Vec<(Uuid, Uuid)>) {
    let (live, all): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where revoked is not true), count(*) from refresh_tokens
          where family_id = $1",
    )
    .bind(family)
    .fetch_one(&mut *c)
    .await
    .expect("count rows");
    let sessions = sqlx::query_as(
        "select s.id, s.refresh_token_id from sessions s
           join refresh_tokens r on r.id = s.refresh_token_id
          where r.family_id = $1 and s.terminated is not true",
    )
    .bind(family)
    .fetch_all(&mut *c)
    .await
    .expect("sessions");
    (live, all, sessions)
}

#[tokio::test]
async fn rt_01_refresh_rotates_within_the_family_and_keeps_the_session() {
    let ctx = Ctx::new().await;
    let (user, first) = login(&ctx, "rt01@example.com").await;
    let mut c = ctx.conn().await;
    ctx.clock.advance_secs(60);
    let grants = assemble(&mut c, user, None, None).await.expect("grants");
    let mut req = login_request(identity(user, "rt01@example.com"), grants);
    req.family = Family::Existing {
        family_id: first.family_id,
        parent_id: first.refresh_token_id,
    };
    req.device.ip = Some("192.0.2.55".into());

    let mut tx = ctx.db.pool().begin().await.expect("begin");
    let second = issue_pair(&mut tx, &ctx.signer, &req)
        .await
        .expect("rotate");
    tx.commit().await.expect("commit");

    assert_ne!(second.tokens.refresh_token, first.tokens.refresh_token);
    assert_ne!(second.refresh_token_id, first.refresh_token_id);
    assert_eq!(second.family_id, first.family_id);
    assert_eq!(
        second.session_id, first.session_id,
        "one session per family"
    );
    let claims = ctx
        .verifier
        .verify_refresh(&second.tokens.refresh_token)
        .expect("verifies");
    assert_eq!(claims.tid, second.refresh_token_id.to_string());

    let (revoked, reason, parent_of_new): (Option<bool>, Option<String>, Option<Uuid>) =
        sqlx::query_as(
            "select o.revoked, o.revoked_reason, n.parent_id
               from refresh_tokens o, refresh_tokens n where o.id = $1 and n.id = $2",
        )
        .bind(first.refresh_token_id)
        .bind(second.refresh_token_id)
        .fetch_one(&mut *c)
        .await
        .expect("rows");
    assert_eq!(revoked, Some(true));
    assert_eq!(reason.as_deref(), Some("token_refresh"));
    assert_eq!(parent_of_new, Some(first.refresh_token_id));

    let (live, all, sessions) = family_state(&mut c, first.family_id).await;
    assert_eq!((live, all), (1, 2));
    assert_eq!(sessions, vec![(first.session_id, second.refresh_token_id)]);
    let (ip, activity): (Option<String>, DateTime<Utc>) =
        sqlx::query_as("select ip_address, last_activity_at from sessions where id = $1")
            .bind(first.session_id)
            .fetch_one(&mut *c)
            .await
            .expect("session");
    assert_eq!(ip.as_deref(), Some("192.0.2.55"));
    assert_eq!(
        activity,
        now(&ctx),
        "last activity bumped to the rotation time"
    );

    // presenting the consumed row again changes nothing and reports the lost rotation
    let replay = issue_pair(&mut c, &ctx.signer, &req).await;
    assert!(matches!(replay, Err(IssueError::RotationLost)));
    assert_eq!(family_state(&mut c, first.family_id).await.1, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rt_03_sixteen_concurrent_rotations_yield_exactly_one_child() {
    const CONTENDERS: usize = 16;
    const ROUNDS: usize = 20;
    let ctx = Ctx::new().await;
    let (_, first) = login(&ctx, "rt03@example.com").await;
    let mut conns = Vec::with_capacity(CONTENDERS);
    for _ in 0..CONTENDERS {
        conns.push(PgConnection::connect(ctx.db.url()).await.expect("connect"));
    }
    let expires = now(&ctx) + ChronoDuration::days(7);
    let mut current = first.refresh_token_id;

    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(CONTENDERS));
        let mut tasks = Vec::with_capacity(CONTENDERS);
        for mut conn in conns.drain(..) {
            let barrier = barrier.clone();
            let row = new_row(expires);
            let at = now(&ctx);
            tasks.push(tokio::spawn(async move {
                let mut tx = conn.begin().await.expect("begin");
                barrier.wait().await;
                let won = rotate(&mut tx, current, &row, at).await.expect("rotate");
                tx.commit().await.expect("commit");
                (conn, won)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (conn, won) = task.await.expect("task");
            conns.push(conn);
            winners.extend(won);
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one rotation wins");
        let won = &winners[0];
        assert_eq!(won.parent_id, current);
        assert_eq!(won.family_id, first.family_id);
        assert_eq!(won.session_id, first.session_id);

        let mut c = ctx.conn().await;
        let (live, all, sessions) = family_state(&mut c, first.family_id).await;
        assert_eq!(live, 1, "round {round}: no second live token");
        assert_eq!(all, i64::try_from(round).expect("small") + 2);
        assert_eq!(sessions, vec![(first.session_id, won.id)]);
        current = won.id;
    }
    let mut c = ctx.conn().await;
    let families: i64 = sqlx::query_scalar("select count(distinct family_id) from refresh_tokens")
        .fetch_one(&mut *c)
        .await
        .expect("count");
    assert_eq!(families, 1, "no extra families");
}

#[tokio::test]
async fn expired_revoked_or_terminated_rows_do_not_rotate() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;

    let (_, expired) = login(&ctx, "expired@example.com").await;
    let exp: DateTime<Utc> =
        sqlx::query_scalar("select expires_at from refresh_tokens where id = $1")
            .bind(expired.refresh_token_id)
            .fetch_one(&mut *c)
            .await
            .expect("row");
    let later = exp + ChronoDuration::seconds(1);
    let r = rotate(&mut c, expired.refresh_token_id, &new_row(later), exp).await;
    assert_eq!(
        r.expect("query"),
        None,
        "expires_at = now is already expired"
    );

    let (_, revoked) = login(&ctx, "revoked@example.com").await;
    let n = revoke_family(&mut c, revoked.family_id, "user_logout", now(&ctx))
        .await
        .expect("revoke");
    assert_eq!(n, 1);
    let r = rotate(&mut c, revoked.refresh_token_id, &new_row(later), now(&ctx)).await;
    assert_eq!(r.expect("query"), None);
    let (live, _, sessions) = family_state(&mut c, revoked.family_id).await;
    assert_eq!(
        (live, sessions.len()),
        (0, 0),
        "revoking a family ends its session"
    );

    let (_, ended) = login(&ctx, "ended@example.com").await;
    sqlx::query("update sessions set terminated = true where id = $1")
        .bind(ended.session_id)
        .execute(&mut *c)
        .await
        .expect("terminate");
    let r = rotate(&mut c, ended.refresh_token_id, &new_row(later), now(&ctx)).await;
    assert_eq!(
        r.expect("query"),
        None,
        "a terminated session is not revived"
    );
    assert_eq!(
        family_state(&mut c, ended.family_id).await.1,
        1,
        "nothing inserted"
    );
}

#[tokio::test]
async fn rt_05_same_second_rotations_leave_older_tokens_dead() {
    let ctx = Ctx::new().await;
    let (user, rt1) = login(&ctx, "rt05@example.com").await;
    let mut c = ctx.conn().await;
    // the clock stays frozen: every token below has the same iat
    let grants = assemble(&mut c, user, None, None).await.expect("grants");
    let mut req = login_request(identity(user, "rt05@example.com"), grants);
    let mut rotate_from = |parent: &IssuedPair| {
        req.family = Family::Existing {
            family_id: parent.family_id,
            parent_id: parent.refresh_token_id,
        };
        req.clone()
    };
    let r2 = issue_pair(&mut c, &ctx.signer, &rotate_from(&rt1))
        .await
        .expect("rt2");
    let r3 = issue_pair(&mut c, &ctx.signer, &rotate_from(&r2))
        .await
        .expect("rt3");
    let iat = |p: &IssuedPair| {
        ctx.verifier
            .verify_refresh(&p.tokens.refresh_token)
            .map(|c| c.iat)
            .ok()
    };
    assert_eq!(iat(&rt1), iat(&r3));

    for old in [&rt1, &r2] {
        let r = issue_pair(&mut c, &ctx.signer, &rotate_from(old)).await;
        assert!(matches!(r, Err(IssueError::RotationLost)));
    }
    let (live, all, sessions) = family_state(&mut c, rt1.family_id).await;
    assert_eq!((live, all), (1, 3));
    assert_eq!(sessions, vec![(rt1.session_id, r3.refresh_token_id)]);

    // the caller's reuse response: revoke the family (contract §5.2)
    let n = revoke_family(
        &mut c,
        rt1.family_id,
        "refresh_token_reuse_detected",
        now(&ctx),
    )
    .await
    .expect("revoke");
    assert_eq!(n, 1, "only rt3 was live");
    let r = issue_pair(&mut c, &ctx.signer, &rotate_from(&r3)).await;
    assert!(matches!(r, Err(IssueError::RotationLost)));
}

#[tokio::test]
async fn a_parent_from_another_family_is_refused() {
    let ctx = Ctx::new().await;
    let (user, pair) = login(&ctx, "mismatch@example.com").await;
    let mut c = ctx.conn().await;
    let grants = assemble(&mut c, user, None, None).await.expect("grants");
    let mut req = login_request(identity(user, "mismatch@example.com"), grants);
    req.family = Family::Existing {
        family_id: Uuid::new_v4(),
        parent_id: pair.refresh_token_id,
    };
    let mut tx = ctx.db.pool().begin().await.expect("begin");
    let r = issue_pair(&mut tx, &ctx.signer, &req).await;
    assert!(matches!(r, Err(IssueError::FamilyMismatch)));
    tx.rollback().await.expect("rollback");
    let (live, all, _) = family_state(&mut c, pair.family_id).await;
    assert_eq!(
        (live, all),
        (1, 1),
        "the caller's rollback undid the rotation"
    );
}

#[tokio::test]
async fn a_row_without_session_gets_one_on_rotation() {
    // rows adopted from the original server may have no session row
    let ctx = Ctx::new().await;
    let (_, pair) = login(&ctx, "legacy@example.com").await;
    let mut c = ctx.conn().await;
    sqlx::query("delete from sessions where id = $1")
        .bind(pair.session_id)
        .execute(&mut *c)
        .await
        .expect("delete session");
    let row = new_row(now(&ctx) + ChronoDuration::days(7));
    let won = rotate(&mut c, pair.refresh_token_id, &row, now(&ctx))
        .await
        .expect("query")
        .expect("rotated");
    assert_ne!(won.session_id, pair.session_id);
    let (live, all, sessions) = family_state(&mut c, pair.family_id).await;
    assert_eq!((live, all), (1, 2));
    assert_eq!(sessions, vec![(won.session_id, row.id)]);
}
