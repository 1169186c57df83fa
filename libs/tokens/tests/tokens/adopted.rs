//! Rows adopted from the original server: `refresh_tokens.revoked` and `sessions.terminated`
//! are nullable there (migration 0001), and NULL must behave as false (RT-01 and family
//! revocation on such rows).

use auth_tokens::{revoke_family, rotate};
use chrono::Duration as ChronoDuration;
use uuid::Uuid;

use crate::fixtures::Ctx;
use crate::rotation::{family_state, login, new_row, now};

async fn null_out(ctx: &Ctx, row: Uuid, session: Uuid) {
    let mut c = ctx.conn().await;
    sqlx::query("update refresh_tokens set revoked = null where id = $1")
        .bind(row)
        .execute(&mut *c)
        .await
        .expect("null revoked");
    sqlx::query("update sessions set terminated = null where id = $1")
        .bind(session)
        .execute(&mut *c)
        .await
        .expect("null terminated");
}

#[tokio::test]
async fn a_row_with_null_revoked_and_null_terminated_rotates() {
    let ctx = Ctx::new().await;
    let (_, pair) = login(&ctx, "null-rotate@example.com").await;
    null_out(&ctx, pair.refresh_token_id, pair.session_id).await;

    let mut c = ctx.conn().await;
    let row = new_row(now(&ctx) + ChronoDuration::days(7));
    let won = rotate(&mut c, pair.refresh_token_id, &row, now(&ctx))
        .await
        .expect("query")
        .expect("a NULL revoked row is live and rotates");
    assert_eq!(won.parent_id, pair.refresh_token_id);
    assert_eq!(won.session_id, pair.session_id, "the session moved along");

    let revoked: Option<bool> =
        sqlx::query_scalar("select revoked from refresh_tokens where id = $1")
            .bind(pair.refresh_token_id)
            .fetch_one(&mut *c)
            .await
            .expect("old row");
    assert_eq!(revoked, Some(true), "the parent is consumed");
    let (live, all, sessions) = family_state(&mut c, pair.family_id).await;
    assert_eq!((live, all), (1, 2));
    assert_eq!(sessions, vec![(pair.session_id, row.id)]);

    // Consumed once: the same parent does not rotate again.
    let again = rotate(
        &mut c,
        pair.refresh_token_id,
        &new_row(now(&ctx) + ChronoDuration::days(7)),
        now(&ctx),
    )
    .await
    .expect("query");
    assert_eq!(again, None);
}

#[tokio::test]
async fn revoke_family_revokes_null_rows_and_terminates_null_sessions() {
    let ctx = Ctx::new().await;
    let (_, pair) = login(&ctx, "null-revoke@example.com").await;
    null_out(&ctx, pair.refresh_token_id, pair.session_id).await;

    let mut c = ctx.conn().await;
    let n = revoke_family(&mut c, pair.family_id, "user_logout", now(&ctx))
        .await
        .expect("revoke");
    assert_eq!(n, 1, "the NULL row counts as live");
    let (revoked, reason): (Option<bool>, Option<String>) =
        sqlx::query_as("select revoked, revoked_reason from refresh_tokens where id = $1")
            .bind(pair.refresh_token_id)
            .fetch_one(&mut *c)
            .await
            .expect("row");
    assert_eq!(
        (revoked, reason.as_deref()),
        (Some(true), Some("user_logout"))
    );
    let terminated: Option<bool> =
        sqlx::query_scalar("select terminated from sessions where id = $1")
            .bind(pair.session_id)
            .fetch_one(&mut *c)
            .await
            .expect("session");
    assert_eq!(terminated, Some(true), "the NULL session is terminated");

    let r = rotate(
        &mut c,
        pair.refresh_token_id,
        &new_row(now(&ctx) + ChronoDuration::days(7)),
        now(&ctx),
    )
    .await
    .expect("query");
    assert_eq!(r, None, "a revoked family does not rotate");
}
