//! auth-cache against the real Redis (REDIS_URL), against a URL where nothing listens (the
//! fallback path, FLT-01/FLT-04/FLT-06), and the memory store with an injected clock.

use std::{sync::Arc, time::Duration};

use auth_cache::{Cache, CacheConfig, CacheError, Fallback, ManualClock, RedisHealth};

fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .expect("REDIS_URL must be set (e.g. redis://127.0.0.1:56379/) to run auth-cache tests")
}

fn prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

async fn real() -> Cache {
    let cache = Cache::connect(CacheConfig {
        redis_url: Some(redis_url()),
        key_prefix: prefix(),
        ..CacheConfig::default()
    })
    .await
    .expect("connect");
    assert!(cache.redis_up(), "redis at REDIS_URL did not answer PING");
    cache
}

/// A Redis URL where nothing listens: every command fails with a connection refusal.
async fn dead() -> Cache {
    Cache::connect(CacheConfig {
        redis_url: Some("redis://127.0.0.1:1/".to_owned()),
        key_prefix: prefix(),
        ..CacheConfig::default()
    })
    .await
    .expect("a bad address is not a config error")
}

/// Read a key straight from Redis, bypassing the cache, to prove where a value lives.
async fn raw_get(key: &str) -> Option<Vec<u8>> {
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("GET")
}

async fn raw_pttl(key: &str) -> i64 {
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("PTTL")
}

#[tokio::test]
async fn real_redis_round_trips_under_the_prefix() {
    let c = real().await;
    let ttl = Duration::from_secs(30);
    c.set_ex("k", b"v1", ttl, Fallback::Fail).await.unwrap();
    assert_eq!(
        c.get("k", Fallback::Fail).await.unwrap().as_deref(),
        Some(&b"v1"[..])
    );
    assert_eq!(raw_get(&c.prefixed("k")).await.as_deref(), Some(&b"v1"[..]));
    let pttl = raw_pttl(&c.prefixed("k")).await;
    assert!(pttl > 25_000 && pttl <= 30_000, "pttl {pttl}");

    assert!(c.del("k", Fallback::Fail).await.unwrap());
    assert!(!c.del("k", Fallback::Fail).await.unwrap());
    assert_eq!(c.get("k", Fallback::Fail).await.unwrap(), None);
    assert_eq!(c.ping().await, RedisHealth::Up);
}

#[tokio::test]
async fn real_redis_set_nx_and_get_del_are_one_shot() {
    let c = real().await;
    let ttl = Duration::from_secs(30);
    assert!(
        c.set_nx_ex("sso:state:s1", b"a", ttl, Fallback::Fail)
            .await
            .unwrap()
    );
    assert!(
        !c.set_nx_ex("sso:state:s1", b"b", ttl, Fallback::Fail)
            .await
            .unwrap()
    );
    assert_eq!(
        c.get_del("sso:state:s1", Fallback::Fail)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"a"[..])
    );
    assert_eq!(
        c.get_del("sso:state:s1", Fallback::Fail).await.unwrap(),
        None
    );
    assert_eq!(raw_get(&c.prefixed("sso:state:s1")).await, None);
}

#[tokio::test]
async fn real_redis_incr_window_counts_and_rearms_the_ttl() {
    let c = real().await;
    let w = Duration::from_secs(60);
    for expected in 1..=3 {
        let n = c
            .incr_window("ratelimit:1.2.3.4", w, Fallback::Fail)
            .await
            .unwrap()
            .expect("counted in redis");
        assert_eq!(n.count, expected);
        assert_eq!(n.resets_in, w);
    }
    assert_eq!(
        raw_get(&c.prefixed("ratelimit:1.2.3.4")).await.as_deref(),
        Some(&b"3"[..])
    );
    let pttl = raw_pttl(&c.prefixed("ratelimit:1.2.3.4")).await;
    assert!(pttl > 55_000 && pttl <= 60_000, "pttl {pttl}");
}

#[tokio::test]
async fn prefixes_isolate_callers() {
    let a = real().await;
    let b = real().await;
    let ttl = Duration::from_secs(30);
    a.set_ex("same", b"a", ttl, Fallback::Fail).await.unwrap();
    assert_eq!(b.get("same", Fallback::Fail).await.unwrap(), None);
}

// FLT-04: without Redis the memory fallback keeps counting; Skip and Fail behave as stated.
#[tokio::test]
async fn unreachable_redis_falls_back_per_policy() {
    let c = dead().await;
    assert!(c.redis_configured());
    assert!(!c.redis_up());
    assert_eq!(c.ping().await, RedisHealth::Down);

    let w = Duration::from_secs(60);
    for expected in 1..=5 {
        let n = c
            .incr_window("ratelimit:9.9.9.9", w, Fallback::Memory)
            .await
            .unwrap()
            .expect("memory counts");
        assert_eq!(n.count, expected);
    }
    assert_eq!(
        c.incr_window("account_attempts:x", w, Fallback::Skip)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        c.get("user_tv:u1", Fallback::Fail).await,
        Err(CacheError::Unavailable)
    ));

    let ttl = Duration::from_secs(30);
    c.set_ex("sso:state:s", b"x", ttl, Fallback::Memory)
        .await
        .unwrap();
    assert_eq!(
        c.get_del("sso:state:s", Fallback::Memory)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"x"[..])
    );
    c.set_ex("idem:h", b"x", ttl, Fallback::Skip).await.unwrap();
    assert_eq!(c.get("idem:h", Fallback::Memory).await.unwrap(), None);
    assert!(
        !c.set_nx_ex("lock", b"1", ttl, Fallback::Skip)
            .await
            .unwrap()
    );
}

// FLT-01 / FLT-06: after one failure Redis is skipped for the retry interval (so a dead or
// paused Redis costs one op timeout, not one per request), then tried again.
#[tokio::test]
async fn failure_starts_a_back_off_that_ends_after_the_retry_interval() {
    let clock = ManualClock::new();
    let c = Cache::connect_with_clock(
        CacheConfig {
            redis_url: Some("redis://127.0.0.1:1/".to_owned()),
            key_prefix: prefix(),
            retry_interval: Duration::from_secs(2),
            ..CacheConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    assert!(!c.redis_up());
    clock.advance(Duration::from_secs(2));
    assert!(
        c.redis_up(),
        "back-off over: the next call probes Redis again"
    );
    c.get("k", Fallback::Memory).await.unwrap();
    assert!(!c.redis_up(), "the probe failed: back-off again");
}

#[tokio::test]
async fn no_redis_configured_uses_memory() {
    let c = Cache::connect(CacheConfig {
        key_prefix: prefix(),
        ..CacheConfig::default()
    })
    .await
    .unwrap();
    assert!(!c.redis_configured());
    assert!(!c.redis_up());
    assert_eq!(c.ping().await, RedisHealth::NotConfigured);
    c.set_ex("a", b"1", Duration::from_secs(5), Fallback::Memory)
        .await
        .unwrap();
    assert_eq!(
        c.get("a", Fallback::Memory).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert!(Cache::memory_only("p:").redis_configured().eq(&false));
}

#[tokio::test]
async fn memory_ttls_follow_the_injected_clock() {
    let clock = ManualClock::new();
    let c = Cache::connect_with_clock(
        CacheConfig {
            key_prefix: prefix(),
            ..CacheConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    c.set_ex("a", b"1", Duration::from_secs(10), Fallback::Memory)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(10));
    assert_eq!(c.get("a", Fallback::Memory).await.unwrap(), None);

    // A true fixed window in memory: the 3rd hit after the window starts at 1 again.
    let w = Duration::from_secs(60);
    let hit = || c.incr_window("rl", w, Fallback::Memory);
    assert_eq!(hit().await.unwrap().map(|n| n.count), Some(1));
    clock.advance(Duration::from_secs(59));
    let second = hit().await.unwrap().expect("counted");
    assert_eq!(
        (second.count, second.resets_in),
        (2, Duration::from_secs(1))
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(hit().await.unwrap().map(|n| n.count), Some(1));
}

/// A TCP listener that accepts connections and never answers: a paused or hung Redis.
async fn black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    format!("redis://{addr}/")
}

// FLT-06 (like `CLIENT PAUSE`): a Redis that accepts but never answers costs one op timeout,
// then the caller gets its fallback; nothing waits forever.
#[tokio::test]
async fn silent_redis_times_out_into_the_fallback() {
    let clock = ManualClock::new();
    let c = Cache::connect_with_clock(
        CacheConfig {
            redis_url: Some(black_hole().await),
            key_prefix: prefix(),
            op_timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_millis(50),
            ..CacheConfig::default()
        },
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    assert!(!c.redis_up(), "the start-up PING timed out");
    c.set_ex("k", b"mem", Duration::from_secs(60), Fallback::Memory)
        .await
        .unwrap();

    clock.advance(CacheConfig::default().retry_interval);
    assert!(c.redis_up());
    // The guard only turns a hang into a failure message; the op itself is bounded at 50 ms.
    let got = tokio::time::timeout(Duration::from_secs(5), c.get("k", Fallback::Memory))
        .await
        .expect("the cache must not wait for a silent Redis")
        .unwrap();
    assert_eq!(got.as_deref(), Some(&b"mem"[..]));
    assert!(!c.redis_up(), "the timeout started a new back-off");
}

async fn raw_set(key: &str, value: &str) {
    let client = redis::Client::open(redis_url()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .arg("EX")
        .arg(60)
        .query_async::<()>(&mut conn)
        .await
        .expect("SET");
}

// The token-version mirror's write: forward-only, no TTL, one EVAL.
#[tokio::test]
async fn real_redis_set_max_only_moves_forward_without_ttl() {
    let c = real().await;
    assert!(c.set_max("user_tv:u", 5, Fallback::Fail).await.unwrap());
    assert!(!c.set_max("user_tv:u", 3, Fallback::Fail).await.unwrap());
    assert_eq!(
        raw_get(&c.prefixed("user_tv:u")).await.as_deref(),
        Some(&b"5"[..])
    );
    assert!(!c.set_max("user_tv:u", 5, Fallback::Fail).await.unwrap());
    assert!(c.set_max("user_tv:u", 7, Fallback::Fail).await.unwrap());
    assert_eq!(
        raw_get(&c.prefixed("user_tv:u")).await.as_deref(),
        Some(&b"7"[..])
    );
    assert_eq!(raw_pttl(&c.prefixed("user_tv:u")).await, -1, "no TTL");

    // A key that had a TTL (the old mirror wrote one) loses it once moved forward.
    raw_set(&c.prefixed("user_tv:old"), "2").await;
    assert!(c.set_max("user_tv:old", 3, Fallback::Fail).await.unwrap());
    assert_eq!(raw_pttl(&c.prefixed("user_tv:old")).await, -1);
}

#[tokio::test]
async fn real_redis_set_max_compares_every_i64_exactly() {
    let c = real().await;
    // As doubles these two are equal; the script compares digits.
    assert!(
        c.set_max("big", i64::MAX - 1, Fallback::Fail)
            .await
            .unwrap()
    );
    assert!(c.set_max("big", i64::MAX, Fallback::Fail).await.unwrap());
    assert!(
        !c.set_max("big", i64::MAX - 1, Fallback::Fail)
            .await
            .unwrap()
    );
    assert_eq!(
        raw_get(&c.prefixed("big")).await.as_deref(),
        Some(i64::MAX.to_string().as_bytes())
    );

    assert!(c.set_max("neg", -10, Fallback::Fail).await.unwrap());
    assert!(!c.set_max("neg", -11, Fallback::Fail).await.unwrap());
    assert!(c.set_max("neg", -9, Fallback::Fail).await.unwrap());
    assert!(c.set_max("neg", 0, Fallback::Fail).await.unwrap());
    assert!(!c.set_max("neg", i64::MIN, Fallback::Fail).await.unwrap());
    assert_eq!(
        raw_get(&c.prefixed("neg")).await.as_deref(),
        Some(&b"0"[..])
    );
}

#[tokio::test]
async fn real_redis_set_max_refuses_a_non_integer_and_writes_nothing() {
    let c = real().await;
    raw_set(&c.prefixed("user_tv:text"), "abc").await;
    assert!(matches!(
        c.set_max("user_tv:text", 1, Fallback::Memory).await,
        Err(CacheError::Rejected(_))
    ));
    assert_eq!(
        raw_get(&c.prefixed("user_tv:text")).await.as_deref(),
        Some(&b"abc"[..])
    );
    assert!(c.redis_up(), "a refusal is not an outage");
}

// An error reply (here Redis refusing an out-of-range PX) must not read as "key already held".
#[tokio::test]
async fn real_redis_error_reply_to_set_nx_is_an_error_not_held() {
    let c = real().await;
    let got = c
        .set_nx_ex("lock", b"1", Duration::MAX, Fallback::Memory)
        .await;
    assert!(matches!(got, Err(CacheError::Rejected(_))), "{got:?}");
    assert!(c.redis_up(), "a refusal is not an outage");
    assert_eq!(raw_get(&c.prefixed("lock")).await, None);
    // The memory store was not used either: Redis stays the authority.
    assert_eq!(c.get("lock", Fallback::Memory).await.unwrap(), None);
}

#[tokio::test]
async fn unreachable_redis_set_max_follows_the_fallback() {
    let c = dead().await;
    assert!(matches!(
        c.set_max("tv", 1, Fallback::Fail).await,
        Err(CacheError::Unavailable)
    ));
    assert!(!c.set_max("tv", 1, Fallback::Skip).await.unwrap());
    assert!(c.set_max("tv", 4, Fallback::Memory).await.unwrap());
    assert!(!c.set_max("tv", 2, Fallback::Memory).await.unwrap());
    assert_eq!(
        c.get("tv", Fallback::Memory).await.unwrap().as_deref(),
        Some(&b"4"[..])
    );
    assert!(matches!(
        c.set_nx_ex("lock", b"1", Duration::from_secs(5), Fallback::Fail)
            .await,
        Err(CacheError::Unavailable)
    ));
}
