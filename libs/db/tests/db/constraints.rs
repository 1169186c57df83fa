//! Uniqueness, constraint classification and the append-only audit log.

use sqlx::PgPool;
use testkit::TestDb;
use uuid::Uuid;

async fn insert_user(pool: &PgPool, namespace: &str, email: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into users (id, email, first_name, last_name, namespace) \
         values ($1, $2, 'Test', 'User', $3) returning id",
    )
    .bind(Uuid::new_v4())
    .bind(email)
    .bind(namespace)
    .fetch_one(pool)
    .await
}

// PW-10: a mixed-case twin of an existing address is a duplicate, whoever writes it
#[tokio::test]
async fn email_is_unique_per_namespace_case_insensitively_pw_10() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let first = insert_user(pool, "default", "admin@example.com")
        .await
        .unwrap();

    let exact = insert_user(pool, "default", "admin@example.com")
        .await
        .unwrap_err();
    let exact_name = auth_db::unique_violation(&exact).map(str::to_owned);
    assert!(
        matches!(
            exact_name.as_deref(),
            Some("users_namespace_email_unique" | "users_namespace_email_ci_unique")
        ),
        "{exact_name:?}"
    );
    let twin = insert_user(pool, "default", "Admin@Example.com")
        .await
        .unwrap_err();
    assert_eq!(
        auth_db::unique_violation(&twin),
        Some("users_namespace_email_ci_unique")
    );

    // another pool may hold the same address
    insert_user(pool, "tenant-b", "ADMIN@example.com")
        .await
        .expect("other namespace");

    // soft-deleting frees the address
    sqlx::query("update users set deleted_at = now() where id = $1")
        .bind(first)
        .execute(pool)
        .await
        .unwrap();
    insert_user(pool, "default", "Admin@Example.com")
        .await
        .expect("after soft delete");
    db.cleanup().await;
}

#[tokio::test]
async fn unique_violation_names_the_constraint() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let err = sqlx::query(
        "insert into permissions (code, name, resource, action) \
         values ('org:read', 'again', 'org', 'read')",
    )
    .execute(pool)
    .await
    .unwrap_err();
    assert_eq!(
        auth_db::unique_violation(&err),
        Some("permissions_code_key")
    );
    assert_eq!(auth_db::foreign_key_violation(&err), None);

    let err = sqlx::query(
        "insert into roles (code, name, type) values ('base_user', 'Impostor', 'system')",
    )
    .execute(pool)
    .await
    .unwrap_err();
    assert_eq!(
        auth_db::unique_violation(&err),
        Some("roles_system_code_unique")
    );

    let err = sqlx::query("insert into user_namespaces (user_id, namespace) values ($1, 'x')")
        .bind(Uuid::new_v4())
        .execute(pool)
        .await
        .unwrap_err();
    assert_eq!(auth_db::unique_violation(&err), None);
    assert_eq!(
        auth_db::foreign_key_violation(&err),
        Some("user_namespaces_user_id_fkey")
    );

    let not_db = sqlx::Error::RowNotFound;
    assert_eq!(auth_db::unique_violation(&not_db), None);
    db.cleanup().await;
}

// AUD-04: the consumer inserts on conflict (event_id) do nothing
#[tokio::test]
async fn audit_insert_is_idempotent_on_event_id_and_needs_no_live_user_aud_04() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let event = Uuid::new_v4();
    let gone_user = Uuid::new_v4(); // never existed, like a user hard-deleted before delivery
    for _ in 0..2 {
        sqlx::query(
            "insert into audit_log (id, event_id, user_id, organization_id, action) \
             values ($1, $2, $3, $4, 'user.self_deleted') on conflict (event_id) do nothing",
        )
        .bind(Uuid::new_v4())
        .bind(event)
        .bind(gone_user)
        .bind(Uuid::new_v4())
        .execute(pool)
        .await
        .expect("audit insert");
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from audit_log where event_id = $1")
        .bind(event)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    db.cleanup().await;
}

// AUD-09: audit rows cannot be changed or removed
#[tokio::test]
async fn audit_log_is_append_only_aud_09() {
    let db = TestDb::new().await;
    let pool = db.pool();
    sqlx::query("insert into audit_log (action) values ('login.success')")
        .execute(pool)
        .await
        .unwrap();
    for sql in [
        "update audit_log set action = 'forged'",
        "delete from audit_log",
        "truncate audit_log",
    ] {
        let err = sqlx::query(sql).execute(pool).await.unwrap_err();
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
    let rows: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'login.success'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(rows, 1);
    db.cleanup().await;
}

#[tokio::test]
async fn outbox_has_the_agreed_shape() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let id = Uuid::new_v4();
    sqlx::query("insert into outbox (id, topic, payload) values ($1, 'audit.login.success', $2)")
        .bind(id)
        .bind(serde_json::json!({"user_id": Uuid::new_v4()}))
        .execute(pool)
        .await
        .unwrap();
    let pending: Vec<Uuid> = sqlx::query_scalar(
        "select id from outbox where published_at is null order by created_at \
         for update skip locked",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(pending, [id]);
    db.cleanup().await;
}
