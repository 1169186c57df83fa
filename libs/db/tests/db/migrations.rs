//! The migration set on an empty database, and re-applied.

use testkit::TestDb;

use crate::catalog;

/// The tables of contract 7.2 plus our `outbox`.
pub const TABLES: [&str; 25] = [
    "_migrations",
    "users",
    "user_auth_providers",
    "user_namespaces",
    "organizations",
    "organization_members",
    "organization_member_roles",
    "roles",
    "permissions",
    "role_permissions",
    "user_base_roles",
    "invitations",
    "jobs",
    "invitation_roles",
    "refresh_tokens",
    "revoked_access_tokens",
    "sessions",
    "password_reset_tokens",
    "email_verification_tokens",
    "magic_links",
    "apps",
    "user_apps",
    "m2m_clients",
    "audit_log",
    "outbox",
];

#[tokio::test]
async fn migrations_apply_to_an_empty_database() {
    let db = TestDb::new_empty().await;
    auth_db::migrate(db.pool()).await.expect("migrate");

    let mut tables: Vec<String> = sqlx::query_scalar(
        "select tablename::text from pg_tables where schemaname = 'public' \
         and tablename <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    tables.sort();
    let mut expected: Vec<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
    expected.sort();
    assert_eq!(tables, expected);

    let applied = catalog::applied_migrations(db.pool()).await;
    assert_eq!(applied, auth_db::MIGRATOR.iter().count() as i64);

    // our additions
    let token_version: (String, String, Option<String>) = sqlx::query_as(
        "select data_type::text, is_nullable::text, column_default::text \
         from information_schema.columns where table_name = 'users' \
         and column_name = 'token_version'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        token_version,
        ("bigint".into(), "NO".into(), Some("0".into()))
    );
    let event_id_unique: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_constraint \
         where conname = 'audit_log_event_id_key' and contype = 'u')",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(event_id_unique);
    db.cleanup().await;
}

#[tokio::test]
async fn applying_twice_is_a_no_op() {
    let db = TestDb::new_empty().await;
    auth_db::migrate(db.pool()).await.expect("first run");
    let schema = catalog::snapshot(db.pool()).await;
    let oids = catalog::constraint_oids(db.pool()).await;
    let applied = catalog::applied_migrations(db.pool()).await;

    auth_db::migrate(db.pool()).await.expect("second run");
    assert_eq!(catalog::snapshot(db.pool()).await, schema);
    assert_eq!(catalog::constraint_oids(db.pool()).await, oids);
    assert_eq!(catalog::applied_migrations(db.pool()).await, applied);
    db.cleanup().await;
}

#[tokio::test]
async fn every_sql_file_also_reapplies_cleanly() {
    // each file is idempotent on its own, not only guarded by the sqlx tracker: run them all a
    // second time by hand and the schema does not move
    let db = TestDb::new().await;
    let schema = catalog::snapshot(db.pool()).await;
    let oids = catalog::constraint_oids(db.pool()).await;
    for migration in auth_db::MIGRATOR.iter() {
        let mut tx = db.pool().begin().await.unwrap();
        sqlx::raw_sql(&migration.sql)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{} re-applied: {e}", migration.description));
        tx.commit().await.unwrap();
    }
    assert_eq!(catalog::snapshot(db.pool()).await, schema);
    assert_eq!(catalog::constraint_oids(db.pool()).await, oids);
    db.cleanup().await;
}

#[tokio::test]
async fn concurrent_migrators_apply_each_file_once() {
    let db = TestDb::new_empty().await;
    let runs = (0..4).map(|_| {
        let pool = db.pool().clone();
        tokio::spawn(async move { auth_db::migrate(&pool).await })
    });
    for run in futures_join(runs).await {
        run.expect("join").expect("migrate");
    }
    assert_eq!(
        catalog::applied_migrations(db.pool()).await,
        auth_db::MIGRATOR.iter().count() as i64
    );
    db.cleanup().await;
}

async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await);
    }
    out
}
