//! auth-host against the real Postgres, Redis and NATS: the revocation source falls back to
//! Postgres (FLT-01 shape) and the Redis mirror only moves forward.

use std::time::Duration;

use auth_bus::token_version::TokenVersionMirror;
use auth_cache::{Cache, CacheConfig, Fallback};
use auth_host::RedisTokenVersionMirror;
use auth_host::revocation::{PgRevocation, platform_revocation};
use jwt_verify::{RevocationSource, TokenRef};
use testkit::{TestDb, unique_prefix};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

async fn user_with_version(db: &TestDb, version: i64) -> Uuid {
    sqlx::query_scalar(
        "insert into users (email, first_name, last_name, token_version) values ($1, 'H', 'T', $2) returning id",
    )
    .bind(format!("{}@example.com", unique_prefix("host")))
    .bind(version)
    .fetch_one(db.pool())
    .await
    .expect("user")
}

fn token<'a>(user: &'a str, jti: &'a str, tv: u64) -> TokenRef<'a> {
    TokenRef {
        user_id: user,
        jti,
        token_version: tv,
        session_id: "",
    }
}

#[tokio::test]
async fn postgres_source_reads_versions_and_revoked_jtis() {
    let db = TestDb::new().await;
    let source = PgRevocation::new(db.pool().clone());
    let user = user_with_version(&db, 3).await.to_string();
    assert_eq!(source.token_version(&user).await, Ok(3));
    let revoked = Uuid::new_v4();
    let expired = Uuid::new_v4();
    sqlx::query(
        "insert into revoked_access_tokens (jti, expires_at) values ($1, now() + interval '5 minutes'), ($2, now() - interval '1 second')",
    )
    .bind(revoked)
    .bind(expired)
    .execute(db.pool())
    .await
    .expect("revoked rows");
    assert_eq!(
        source
            .is_revoked(token(&user, &revoked.to_string(), 3))
            .await,
        Ok(true)
    );
    assert_eq!(
        source
            .is_revoked(token(&user, &expired.to_string(), 3))
            .await,
        Ok(false)
    );
    assert_eq!(
        source
            .is_revoked(token(&user, &Uuid::new_v4().to_string(), 2))
            .await,
        Ok(true)
    );
    // a user without a row (hard-deleted) is a tombstone: every token of it is revoked
    let ghost = Uuid::new_v4().to_string();
    assert_eq!(
        source.token_version(&ghost).await,
        Ok(auth_host::revocation::DELETED_USER_VERSION)
    );
    assert_eq!(
        source
            .is_revoked(token(&ghost, &Uuid::new_v4().to_string(), 0))
            .await,
        Ok(true)
    );
    // SES-02: a revoked session id revokes every token carrying it
    let session = Uuid::new_v4();
    sqlx::query(
        "insert into revoked_access_tokens (jti, expires_at) values ($1, now() + interval '5 minutes')",
    )
    .bind(session)
    .execute(db.pool())
    .await
    .expect("revoked session");
    let session = session.to_string();
    let mut in_session = token(&user, "not-a-uuid", 3);
    in_session.session_id = &session;
    assert_eq!(source.is_revoked(in_session).await, Ok(true));
    in_session.session_id = "";
    assert_eq!(source.is_revoked(in_session).await, Ok(false));
}

#[tokio::test]
async fn a_hard_deleted_users_tokens_are_refused_while_nats_is_down() {
    let db = TestDb::new().await;
    let shutdown = CancellationToken::new();
    let bus = auth_bus::Bus::connect(auth_bus::BusConfig::new(
        "nats://127.0.0.1:9",
        unique_prefix("h"),
    ))
    .await
    .expect("bus config");
    let source = platform_revocation(
        db.pool().clone(),
        bus,
        Duration::from_secs(5),
        shutdown.clone(),
    );
    let user = user_with_version(&db, 0).await;
    let id = user.to_string();
    let jti = Uuid::new_v4().to_string();
    assert_eq!(source.is_revoked(token(&id, &jti, 0)).await, Ok(false));
    sqlx::query("delete from users where id = $1")
        .bind(user)
        .execute(db.pool())
        .await
        .expect("hard delete");
    assert_eq!(source.is_revoked(token(&id, &jti, 0)).await, Ok(true));
    assert_eq!(source.is_revoked(token(&id, &jti, 7)).await, Ok(true));
    shutdown.cancel();
}

#[tokio::test]
async fn without_nats_the_platform_source_answers_from_postgres() {
    let db = TestDb::new().await;
    let shutdown = CancellationToken::new();
    // nothing listens on port 9 here: the watcher never starts
    let bus = auth_bus::Bus::connect(auth_bus::BusConfig::new(
        "nats://127.0.0.1:9",
        unique_prefix("h"),
    ))
    .await
    .expect("bus config");
    let source = platform_revocation(
        db.pool().clone(),
        bus,
        Duration::from_secs(5),
        shutdown.clone(),
    );
    let user = user_with_version(&db, 2).await.to_string();
    let jti = Uuid::new_v4().to_string();
    assert_eq!(source.is_revoked(token(&user, &jti, 1)).await, Ok(true));
    assert_eq!(source.is_revoked(token(&user, &jti, 2)).await, Ok(false));
    assert!(!source.primary.is_healthy());
    shutdown.cancel();
}

#[tokio::test]
async fn the_redis_mirror_only_moves_forward() {
    let cache = Cache::connect(CacheConfig {
        redis_url: Some(std::env::var("REDIS_URL").expect("REDIS_URL must be set")),
        key_prefix: format!("{}:", unique_prefix("host")),
        ..CacheConfig::default()
    })
    .await
    .expect("cache");
    let mirror = RedisTokenVersionMirror::new(cache.clone());
    let user = Uuid::new_v4();
    mirror.set_version(user, 5).await.expect("set 5");
    mirror.set_version(user, 3).await.expect("set 3");
    let key = format!("user_tv:{user}");
    assert_eq!(
        cache.get(&key, Fallback::Fail).await.expect("get"),
        Some(b"5".to_vec())
    );
    mirror.set_version(user, 7).await.expect("set 7");
    assert_eq!(
        cache.get(&key, Fallback::Fail).await.expect("get"),
        Some(b"7".to_vec())
    );
}
