//! The hasher against the `bcrypt` crate (raw bytes, strings both ways, published vectors),
//! and the pool's behaviour as a caller sees it.

use proptest::prelude::*;

use super::pool::Job;
use super::yield_policy::YieldPolicy;
use super::*;

/// The key `bcrypt::hash` builds from a password: at most 72 bytes, NUL-terminated if room.
fn crate_key(password: &[u8]) -> Vec<u8> {
    let mut key: Vec<u8> = password.iter().copied().take(72).collect();
    if key.len() < 72 {
        key.push(0);
    }
    key
}

/// Our verification of `password` against `stored`, as the pool computes it.
fn ours_verify(password: &[u8], stored: &str) -> Result<bool, format::FormatError> {
    let parts = format::parse(stored)?;
    let raw = eks::bcrypt_raw(parts.cost, &parts.salt, password);
    Ok(format::matches(&parts, &raw))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn same_bytes_and_strings_as_the_crate(
        password in proptest::collection::vec(any::<u8>(), 0..=80),
        other in proptest::collection::vec(any::<u8>(), 0..=72),
        salt in any::<[u8; 16]>(),
        salt2 in any::<[u8; 16]>(),
        cost in 4u32..=6,
    ) {
        let raw = eks::bcrypt_raw(cost, &salt, &password);
        prop_assert_eq!(raw, bcrypt::bcrypt(cost, salt, &crate_key(&password)));
        let ours = format::format(cost, &salt, &raw);
        let theirs = bcrypt::hash_with_salt(&password, cost, salt)
            .expect("crate hash")
            .format_for_version(bcrypt::Version::TwoB);
        prop_assert_eq!(&ours, &theirs);
        prop_assert!(bcrypt::verify(&password, &ours).expect("crate verify"));
        prop_assert_eq!(ours_verify(&other, &theirs), Ok(other == password));
        let (a, b) = eks::bcrypt_raw_pair(cost, (&salt, &password), (&salt2, &other));
        prop_assert_eq!(a, raw);
        prop_assert_eq!(b, eks::bcrypt_raw(cost, &salt2, &other));
    }

    #[test]
    fn lanes_of_any_costs_and_offsets_give_the_crates_bytes(
        password_a in proptest::collection::vec(any::<u8>(), 0..=72),
        password_b in proptest::collection::vec(any::<u8>(), 0..=72),
        salt_a in any::<[u8; 16]>(),
        salt_b in any::<[u8; 16]>(),
        cost_a in 4u32..=5,
        cost_b in 4u32..=5,
        head_start in 0u64..40,
        chunk in 1u64..=3,
    ) {
        // a pool thread starts a job in a lane whenever one frees: the other lane may be at
        // any iteration of any cost
        let mut a = eks::Lane::start(cost_a, &salt_a, &password_a);
        a.run(head_start);
        let mut b = eks::Lane::start(cost_b, &salt_b, &password_b);
        while !a.is_done() && !b.is_done() {
            eks::run_pair(&mut a, &mut b, chunk);
        }
        for lane in [&mut a, &mut b] {
            while !lane.is_done() {
                lane.run(chunk);
            }
        }
        prop_assert_eq!(a.finish(), bcrypt::bcrypt(cost_a, salt_a, &crate_key(&password_a)));
        prop_assert_eq!(b.finish(), bcrypt::bcrypt(cost_b, salt_b, &crate_key(&password_b)));
    }

    #[test]
    fn accepts_exactly_the_strings_the_crate_accepts(
        position in 0usize..60,
        replacement in proptest::char::range('!', '~'),
        version in prop_oneof![Just("2a"), Just("2b"), Just("2x"), Just("2y")],
    ) {
        let valid = bcrypt::hash_with_salt("Correct1horse", 4, [3u8; 16])
            .expect("crate hash")
            .format_for_version(bcrypt::Version::TwoB);
        let mut s = format!("${version}{}", &valid[3..]);
        // the cost digits are left alone: a mutated cost could ask for 2^31 rounds
        if position != 4 && position != 5 {
            s.replace_range(position..=position, &replacement.to_string());
        }
        let theirs = bcrypt::verify("Correct1horse", &s).ok();
        prop_assert_eq!(ours_verify(b"Correct1horse", &s).ok(), theirs);
    }
}

#[test]
fn published_vectors() {
    // jBCrypt's and Openwall's test vectors
    let vectors = [
        (
            "",
            "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.",
        ),
        (
            "a",
            "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",
        ),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "$2a$08$aTsUwsyowQuzRrDqFflhgekJ8d9/7Z3GV3UcgvzQW3J5zMyrTvlz.",
        ),
        (
            "U*U",
            "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        ),
    ];
    for (password, stored) in vectors {
        assert_eq!(
            ours_verify(password.as_bytes(), stored),
            Ok(true),
            "{password:?}"
        );
        assert_eq!(ours_verify(b"wrong", stored), Ok(false));
    }
}

impl PasswordHasher {
    /// Runs a closure on a pool thread (tests only).
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Probe(Box::new(move || {
            let _ = reply.send(f());
        })))
        .await?;
        answer.await.map_err(|_| HashError::Task)
    }
}

#[tokio::test]
async fn hashes_verify_and_refuse() {
    let h = PasswordHasher::new(4, 2);
    let hash = h.hash("Correct1horse").await.expect("hash");
    assert!(hash.starts_with("$2b$04$"));
    assert!(bcrypt::verify("Correct1horse", &hash).expect("crate verify"));
    assert!(
        h.verify("Correct1horse", Some(&hash))
            .await
            .expect("verify")
    );
    assert!(!h.verify("Wrong1horse", Some(&hash)).await.expect("verify"));
    assert!(!h.verify("Correct1horse", None).await.expect("dummy"));
    // the crate's hashes, under every prefix it accepts
    let theirs = bcrypt::hash("Correct1horse", 4).expect("crate hash");
    for prefix in ["$2a$", "$2b$", "$2x$", "$2y$"] {
        let stored = format!("{prefix}{}", &theirs[4..]);
        assert!(
            h.verify("Correct1horse", Some(&stored))
                .await
                .expect("theirs")
        );
    }
    // PW-09: a corrupted hash with a multi-byte character is a plain "no"
    let corrupt = format!("$2b$04${}é", "a".repeat(51));
    assert!(
        !h.verify("Correct1horse", Some(&corrupt))
            .await
            .expect("corrupt")
    );
    assert!(matches!(
        h.hash(&"x".repeat(73)).await,
        Err(HashError::TooLong)
    ));
    let max = "x".repeat(72);
    let hash72 = h.hash(&max).await.expect("72 bytes");
    assert!(h.verify(&max, Some(&hash72)).await.expect("verify 72"));
    assert!(!h.verify(&"x".repeat(71), Some(&hash72)).await.expect("71"));
    assert!(!h.verify(&"x".repeat(80), Some(&hash)).await.expect("long"));
    assert!(matches!(
        PasswordHasher::new(3, 1).hash("a").await,
        Err(HashError::Cost(3))
    ));
}

#[tokio::test]
async fn concurrent_jobs_of_mixed_costs_all_get_their_own_answer() {
    // one thread: two lanes of any costs, started as lanes free up, with jobs in the queue
    let h = PasswordHasher::new(4, 1);
    let stored: Vec<(String, String)> = (0..6)
        .map(|i| {
            let pw = format!("pw-{i}");
            let hash = bcrypt::hash(&pw, 4 + (i % 2)).expect("crate hash");
            (pw, hash)
        })
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, (pw, hash)) in stored.iter().enumerate() {
        let (h, hash) = (h.clone(), hash.clone());
        let pw = if i == 3 {
            String::from("wrong")
        } else {
            pw.clone()
        };
        set.spawn(async move { (i, h.verify(&pw, Some(&hash)).await) });
    }
    while let Some(r) = set.join_next().await {
        let (i, ok) = r.expect("join");
        assert_eq!(ok.expect("verify"), i != 3, "job {i}");
    }
}

#[test]
fn a_hash_completes_while_the_machine_is_busy() {
    // more spinning threads than CPUs: the policy naps, but boundedly
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinners: Vec<_> = (0..cores() + 2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let mut policy = YieldPolicy::for_current_thread();
    let raw = compute_single(5, &[1u8; 16], b"busy", &mut policy);
    let (a, b) = compute_pair(5, (&[1u8; 16], b"busy"), (&[2u8; 16], b"x"), &mut policy);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in spinners {
        s.join().expect("spinner");
    }
    assert_eq!(raw, eks::bcrypt_raw(5, &[1u8; 16], b"busy"));
    assert_eq!((a, b), (raw, eks::bcrypt_raw(5, &[2u8; 16], b"x")));
}

/// A well-formed stored hash at cost 31: 2^31 rounds, a job that never finishes in a test.
fn endless_hash() -> String {
    let h = bcrypt::hash_with_salt("whatever", 4, [9u8; 16])
        .expect("crate hash")
        .format_for_version(bcrypt::Version::TwoB);
    format!("$2b$31${}", &h[7..])
}

/// Waits until the pool's queue is empty and no thread is idle: every job so far is in a lane.
async fn until_all_taken(h: &PasswordHasher) {
    while !h.inner.jobs.all_taken() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn a_job_whose_caller_left_frees_its_lane_mid_way() {
    let h = PasswordHasher::new(4, 1);
    let endless = endless_hash();
    let spawn_endless = |pw: &'static str| {
        let (h, stored) = (h.clone(), endless.clone());
        tokio::spawn(async move { h.verify(pw, Some(&stored)).await })
    };
    // both lanes of the one thread busy with jobs that would take days
    let left = spawn_endless("a");
    until_all_taken(&h).await;
    let stays = spawn_endless("b");
    until_all_taken(&h).await;
    // this job can only run once a lane frees: the caller who left frees one
    left.abort();
    let answer = tokio::time::timeout(Duration::from_secs(60), h.run(|| 5)).await;
    assert_eq!(answer.expect("a lane freed").expect("probe ran"), 5);
    let quick = tokio::time::timeout(Duration::from_secs(60), h.hash("beside")).await;
    assert!(quick.expect("hashed beside the endless job").is_ok());
    stays.abort();
}

/// The calling thread's nice value, from `/proc/thread-self/stat` (field 19).
fn own_nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
    let after_name = &stat[stat.rfind(')').expect("comm") + 1..];
    let field = after_name.split_whitespace().nth(16).expect("nice field");
    field.parse().expect("number")
}

#[tokio::test]
async fn pool_threads_run_at_nice_19_and_callers_keep_theirs() {
    let before = own_nice();
    let h = PasswordHasher::new(4, 2);
    assert_eq!(h.run(own_nice).await.expect("run"), 19);
    assert_eq!(own_nice(), before);
}

#[tokio::test]
async fn full_queue_is_saturated_and_panics_are_task_errors() {
    let h = PasswordHasher::with_patience(4, 1, Duration::from_millis(50));
    let (started_tx, started_rx) = oneshot::channel();
    let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
    let busy = tokio::spawn({
        let h = h.clone();
        async move {
            h.run(move || {
                let _ = started_tx.send(());
                let _ = gate_rx.recv();
            })
            .await
        }
    });
    started_rx.await.expect("job started");
    // the one thread is busy; this fills the one queue place
    h.submit(Job::Probe(Box::new(|| {})))
        .await
        .expect("queue has room");
    assert!(matches!(h.run(|| 1).await, Err(HashError::Saturated)));
    assert!(matches!(
        h.verify("a", None).await,
        Err(HashError::Saturated)
    ));
    gate_tx.send(()).expect("release");
    busy.await.expect("join").expect("busy job");
    // a panicking job answers Task and the thread keeps serving
    let panicked: Result<(), _> = h.run(|| std::panic::panic_any("boom")).await;
    assert!(matches!(panicked, Err(HashError::Task)));
    assert_eq!(h.run(|| 7).await.expect("after panic"), 7);
    assert!(h.hash("still-works").await.is_ok());
}
