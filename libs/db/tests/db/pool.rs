//! `connect`, `ping` and the configuration they read.

use std::time::Duration;

use auth_db::{DbConfig, DbError};
use testkit::TestDb;

#[tokio::test]
async fn connect_from_url_reaches_postgres() {
    let db = TestDb::new().await;
    let pool = auth_db::connect(&DbConfig::from_url(db.url()))
        .await
        .expect("connect");
    assert!(auth_db::ping(&pool).await);
    pool.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn connect_from_separate_fields() {
    let db = TestDb::new().await;
    let options: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    let config = DbConfig {
        host: options.get_host().to_owned(),
        port: options.get_port(),
        user: options.get_username().to_owned(),
        dbname: db.name().to_owned(),
        application_name: Some("auth-db-test".into()),
        max_connections: 2,
        min_connections: 0,
        ..DbConfig::default()
    };
    let pool = auth_db::connect(&config).await.expect("connect");
    let (database, app): (String, String) =
        sqlx::query_as("select current_database()::text, current_setting('application_name')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (database.as_str(), app.as_str()),
        (db.name(), "auth-db-test")
    );
    pool.close().await;
    db.cleanup().await;
}

// FLT-05: a service starts while Postgres is unreachable; readiness says so, quickly
#[tokio::test]
async fn connect_is_lazy_and_ping_reports_an_unreachable_server_flt_05() {
    let config = DbConfig {
        host: "127.0.0.1".into(),
        port: 1, // nothing listens here
        connect_timeout: Duration::from_millis(300),
        ..DbConfig::default()
    };
    let pool = auth_db::connect(&config)
        .await
        .expect("lazy pool despite no server");
    assert!(!auth_db::ping_within(&pool, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn bad_settings_are_config_errors_without_secrets() {
    let config = DbConfig {
        sslmode: "sometimes".into(),
        password: "s3cret-sentinel".into(),
        ..DbConfig::default()
    };
    let err = auth_db::connect(&config).await.unwrap_err();
    assert!(matches!(err, DbError::Config(_)), "{err}");
    assert!(!err.to_string().contains("s3cret-sentinel"));
    assert!(!format!("{config:?}").contains("s3cret-sentinel"));

    let err = auth_db::connect(&DbConfig::from_url(
        "postgres://u:s3cret-sentinel@h:notaport/x",
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, DbError::Config(_)), "{err}");
    assert!(!err.to_string().contains("s3cret-sentinel"));
}
