//! The Redis revocation source against the real Redis (`REDIS_URL`), fail-closed on errors.

use std::sync::Arc;

use jwt_verify::revocation::redis::RedisRevocation;
use jwt_verify::{RevocationSource, TokenRef, Verifier, VerifyError};

use crate::support::*;

async fn raw_conn() -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(env_url("REDIS_URL")).expect("REDIS_URL is a redis URL");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis at REDIS_URL must be reachable")
}

async fn set(conn: &mut redis::aio::MultiplexedConnection, key: &str, value: &str) {
    let () = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async(conn)
        .await
        .expect("SET");
}

#[tokio::test]
async fn token_version_and_blacklist_are_read_from_redis() {
    let prefix = format!("{}:", unique_prefix("redis"));
    let source = RedisRevocation::connect_lazy(&env_url("REDIS_URL"), prefix.clone()).unwrap();
    let mut conn = raw_conn().await;
    let clock = clock();
    let v = Verifier::new(config(&clock), Arc::new(source.clone())).unwrap();
    let token = sign(&access_claims(), ACCESS); // tv = 3

    assert!(
        v.verify_access(&token).await.is_ok(),
        "no keys: version 0, nothing revoked"
    );
    set(&mut conn, &format!("{prefix}user_tv:{USER}"), "3").await;
    assert!(v.verify_access(&token).await.is_ok());
    let () = redis::cmd("INCR")
        .arg(format!("{prefix}user_tv:{USER}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(v.verify_access(&token).await, Err(VerifyError::Revoked));
    assert_eq!(source.token_version(USER).await, Ok(4));

    let mut c = access_claims();
    c.tv = 4;
    c.jti = "fresh-jti".into();
    let fresh = sign(&c, ACCESS);
    assert!(v.verify_access(&fresh).await.is_ok());
    set(&mut conn, &format!("{prefix}blacklist:{}", c.jti), "1").await;
    assert_eq!(v.verify_access(&fresh).await, Err(VerifyError::Revoked));
    assert_eq!(source.is_jti_revoked(&c.jti).await, Ok(true));
    assert_eq!(source.is_jti_revoked("other").await, Ok(false));

    // An unreadable version fails closed.
    set(
        &mut conn,
        &format!("{prefix}user_tv:{USER}"),
        "not-a-number",
    )
    .await;
    assert!(matches!(
        v.verify_access(&token).await,
        Err(VerifyError::RevocationUnavailable(_))
    ));

    let () = redis::cmd("DEL")
        .arg(format!("{prefix}user_tv:{USER}"))
        .arg(format!("{prefix}blacklist:{}", c.jti))
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unreachable_redis_fails_closed() {
    // Port 1 on loopback: nothing listens there.
    let source = RedisRevocation::connect_lazy("redis://127.0.0.1:1/", "auth:").unwrap();
    let t = TokenRef {
        user_id: USER,
        jti: "j",
        token_version: 0,
        session_id: "",
    };
    assert!(source.is_revoked(t).await.is_err());
    assert!(source.token_version(USER).await.is_err());
    assert!(source.is_jti_revoked("j").await.is_err());
    let clock = clock();
    let v = Verifier::new(config(&clock), Arc::new(source)).unwrap();
    let err = v
        .verify_access(&sign(&access_claims(), ACCESS))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::RevocationUnavailable(_)),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 503);
}
