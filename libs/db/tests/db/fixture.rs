//! The testkit database fixture itself.

use std::collections::HashSet;

use testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_test_databases_are_independent() {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            tokio::spawn(async move {
                let db = TestDb::new().await;
                // each sees the seeded schema and nobody else's rows
                sqlx::query("insert into outbox (id, topic, payload) values ($1, $2, '{}')")
                    .bind(uuid::Uuid::new_v4())
                    .bind(format!("task.{i}"))
                    .execute(db.pool())
                    .await
                    .unwrap();
                let topics: Vec<String> = sqlx::query_scalar("select topic from outbox")
                    .fetch_all(db.pool())
                    .await
                    .unwrap();
                assert_eq!(topics, [format!("task.{i}")]);
                let roles: i64 = sqlx::query_scalar("select count(*) from roles")
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
                assert_eq!(roles, 8);
                let name = db.name().to_owned();
                assert!(db.url().ends_with(&format!("/{name}")), "{}", db.url());
                db.cleanup().await;
                name
            })
        })
        .collect();
    let mut names = HashSet::new();
    for task in tasks {
        names.insert(task.await.expect("task"));
    }
    assert_eq!(names.len(), 8);
}

#[tokio::test]
async fn dropped_databases_are_removed() {
    let admin = sqlx::PgPool::connect(&testkit::db::admin_url())
        .await
        .unwrap();
    let exists = |name: String| {
        let admin = admin.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "select exists (select 1 from pg_database where datname = $1)",
            )
            .bind(name)
            .fetch_one(&admin)
            .await
            .unwrap()
        }
    };

    let db = TestDb::new().await;
    let name = db.name().to_owned();
    assert!(exists(name.clone()).await);
    drop(db);
    assert!(!exists(name).await, "Drop removes the database");

    let db = TestDb::new().await;
    let name = db.name().to_owned();
    db.cleanup().await;
    assert!(!exists(name).await, "cleanup removes the database");

    let template = testkit::db::template_name();
    assert!(
        exists(template).await,
        "the template stays for the next test"
    );
    admin.close().await;
}

#[test]
fn unique_prefixes_differ_and_are_safe_names() {
    let a = testkit::unique_prefix("bus test.1");
    let b = testkit::unique_prefix("bus test.1");
    assert_ne!(a, b);
    assert!(a.starts_with("bus_test_1_"), "{a}");
    assert!(
        a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    );
}

#[test]
fn with_database_swaps_only_the_path() {
    use testkit::db::with_database;
    assert_eq!(
        with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t_1"),
        "postgres://u:p@h:5/t_1?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "t_1"), "postgres://h/t_1");
}
