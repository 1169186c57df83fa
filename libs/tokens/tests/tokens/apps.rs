//! App loading and the `user_apps` grant helpers (contract §5.1 step 10).

use auth_tokens::{grant_app, has_active_grant, load_app};

use crate::fixtures::*;

#[tokio::test]
async fn load_app_reads_the_scope_by_code() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let app = create_app(&mut c, &["billing"], true).await;
    assert!(app.is_active());
    assert_eq!(app.service_codes, vec!["billing".to_owned()]);
    assert_eq!(
        app.permission_services(),
        vec!["billing".to_owned(), "core".to_owned()]
    );
    assert!(app.auto_grant_on_signup);

    assert_eq!(load_app(&mut c, "no-such-app").await.expect("query"), None);
    sqlx::query("update apps set deleted_at = now() where id = $1")
        .bind(app.id)
        .execute(&mut *c)
        .await
        .expect("soft-delete");
    assert_eq!(load_app(&mut c, &app.code).await.expect("query"), None);
}

#[tokio::test]
async fn grants_are_created_reported_and_reactivated() {
    let ctx = Ctx::new().await;
    let mut c = ctx.conn().await;
    let app = create_app(&mut c, &[], false).await;
    let user = create_user(&mut c, "grant@example.com").await;
    let admin = create_user(&mut c, "granter@example.com").await;

    assert!(!has_active_grant(&mut c, user, app.id).await.expect("query"));
    assert!(grant_app(&mut c, user, app.id, None).await.expect("grant"));
    assert!(has_active_grant(&mut c, user, app.id).await.expect("query"));
    assert!(
        !grant_app(&mut c, user, app.id, Some(admin))
            .await
            .expect("again")
    );

    sqlx::query("update user_apps set status = 'revoked' where user_id = $1")
        .bind(user)
        .execute(&mut *c)
        .await
        .expect("revoke");
    assert!(!has_active_grant(&mut c, user, app.id).await.expect("query"));
    assert!(
        grant_app(&mut c, user, app.id, Some(admin))
            .await
            .expect("re-grant")
    );
    let by: Option<uuid::Uuid> =
        sqlx::query_scalar("select granted_by from user_apps where user_id = $1")
            .bind(user)
            .fetch_one(&mut *c)
            .await
            .expect("read");
    assert_eq!(by, Some(admin));
}
