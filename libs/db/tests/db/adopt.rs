//! Adopting a database created by the original Go server.

use testkit::TestDb;
use uuid::Uuid;

use crate::catalog;

const ORIGINAL: &str = include_str!("fixtures/original_go_schema.sql");
const OWNER: Uuid = Uuid::from_u128(0xa000_0000_0000_4000_a000_0000_0000_0001);

async fn original_database() -> TestDb {
    let db = TestDb::new_empty().await;
    sqlx::raw_sql(ORIGINAL)
        .execute(db.pool())
        .await
        .expect("original-shaped schema");
    db
}

#[tokio::test]
async fn original_database_is_adopted_in_place() {
    let original = original_database().await;
    let before = catalog::constraint_oids(original.pool()).await;

    auth_db::migrate(original.pool())
        .await
        .expect("migrate the original database");

    // every original constraint is kept as it was (same oid), except the two audit_log
    // foreign keys, which 0004 drops on purpose
    let after = catalog::constraint_oids(original.pool()).await;
    for (name, oid) in &before {
        if name.starts_with("audit_log_") && name.ends_with("_fkey") {
            assert!(
                !after.iter().any(|(n, _)| n == name),
                "{name} still present"
            );
        } else {
            assert!(
                after.contains(&(name.clone(), *oid)),
                "{name} was re-created or lost"
            );
        }
    }

    // and the result is exactly the schema a fresh database gets
    let fresh = TestDb::new().await;
    let adopted_schema = catalog::snapshot(original.pool()).await;
    let fresh_schema = catalog::snapshot(fresh.pool()).await;
    let only_adopted: Vec<_> = adopted_schema
        .iter()
        .filter(|l| !fresh_schema.contains(l))
        .collect();
    let only_fresh: Vec<_> = fresh_schema
        .iter()
        .filter(|l| !adopted_schema.contains(l))
        .collect();
    assert!(
        only_adopted.is_empty() && only_fresh.is_empty(),
        "schemas differ:\nonly adopted: {only_adopted:#?}\nonly fresh: {only_fresh:#?}"
    );
    fresh.cleanup().await;
    original.cleanup().await;
}

#[tokio::test]
async fn adopted_rows_are_kept_and_seeds_only_fill_gaps() {
    let db = original_database().await;
    auth_db::migrate(db.pool()).await.expect("migrate");
    let pool = db.pool();

    // one row per system role code, the original's wording untouched
    let roles: Vec<(String, i64)> = sqlx::query_as(
        "select code::text, count(*) from roles where organization_id is null group by code order by code",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(roles.len(), 8);
    assert!(roles.iter().all(|(_, n)| *n == 1), "{roles:?}");
    let description: String =
        sqlx::query_scalar("select description from roles where code = 'base_user'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(description, "everyone");
    let wording: String =
        sqlx::query_scalar("select description from permissions where code = 'users:read'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(wording, "original wording");

    // the catalogue is completed and org_member still has exactly its two codes
    let permissions: i64 = sqlx::query_scalar("select count(*) from permissions")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(permissions, 54);
    assert_eq!(
        crate::seeds::role_permission_codes(pool, "org_member").await,
        ["org:members:read", "org:read"]
    );

    // users keep their rows and get token_version 0
    let version: i64 = sqlx::query_scalar("select token_version from users where id = $1")
        .bind(OWNER)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(version, 0);

    // audit rows survive, without event ids, and outlive a hard delete of their actor
    sqlx::query("delete from organizations")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("delete from users where id = $1")
        .bind(OWNER)
        .execute(pool)
        .await
        .expect("hard delete of a user named by audit rows");
    let audit: Vec<(Option<Uuid>, Option<Uuid>)> =
        sqlx::query_as("select user_id, event_id from audit_log order by action")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(audit, vec![(Some(OWNER), None), (Some(OWNER), None)]);

    // the original's tracker now lists all twenty files, so the original binary would not
    // try to re-create anything
    let tracked: i64 = sqlx::query_scalar("select count(*) from _migrations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(tracked, 20);
    db.cleanup().await;
}
