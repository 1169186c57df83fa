//! `POST /oauth/token` refusals cost the same whatever the client id (SECURITY M2M-01).

use reqwest::StatusCode;

use crate::helpers::{app, user_token};
use crate::m2m::{FORM, register, token};

async fn fastest<F, Fut>(n: usize, mut f: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut best = std::time::Duration::MAX;
    for _ in 0..n {
        let start = std::time::Instant::now();
        f().await;
        best = best.min(start.elapsed());
    }
    best
}

#[tokio::test]
async fn every_refusal_costs_one_bcrypt_so_ids_do_not_leak_m2m_01() {
    let app = app().await;
    let (_, admin) = user_token(&app, "root@example.com", &["system_admin"]).await;
    let (_, fast_secret) = register(&app, &admin, "fast", &[]).await;
    // the test server runs BCRYPT_COST 10; an imported hash of that cost
    let legacy = bcrypt::hash("legacy-secret-0123456789", 10).expect("bcrypt");
    for (id, hash) in [("legacy", legacy.as_str()), ("odd", "md5$abcdef")] {
        sqlx::query(
            "insert into m2m_clients (client_id, client_secret_hash, name, scopes)
             values ($1, $2, 'Imported', '{a}')",
        )
        .bind(id)
        .bind(hash)
        .execute(&app.platform.db)
        .await
        .expect("insert");
    }
    let wrong = "w".repeat(64);
    // unknown id, fast hash, imported bcrypt, unreadable hash; and a NUL in the client id,
    // which never reaches Postgres (it was a 500) and is sent in Basic since the edge itself
    // answers a NUL in a form or JSON body
    let ids = ["nobody", "fast", "legacy", "odd", "\0", "a\0b"];
    let mut took = [std::time::Duration::MAX; 6];
    let mut one_bcrypt = std::time::Duration::MAX;
    // interleaved rounds, fastest of each: load only ever adds time
    for _ in 0..3 {
        one_bcrypt = one_bcrypt.min(
            fastest(1, || async {
                let hash = legacy.clone();
                let ok = tokio::task::spawn_blocking(move || bcrypt::verify("wrong", &hash))
                    .await
                    .expect("join");
                assert_eq!(ok.ok(), Some(false));
            })
            .await,
        );
        for (i, id) in ids.iter().enumerate() {
            let t = fastest(1, || async {
                let r = token(
                    &app,
                    FORM,
                    "grant_type=client_credentials",
                    Some((id, &wrong)),
                )
                .await;
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{id:?}: {}", r.body);
                assert_eq!(r.body["error"], "invalid_client");
            })
            .await;
            took[i] = took[i].min(t);
        }
    }
    // the real bcrypt refusal is a reference too
    one_bcrypt = one_bcrypt.min(took[2]);
    for (id, t) in ids.iter().zip(took) {
        assert!(
            t * 2 >= one_bcrypt,
            "{id:?}: refusal took {t:?}, one bcrypt takes {one_bcrypt:?}"
        );
    }
    let r = token(
        &app,
        FORM,
        &format!("grant_type=client_credentials&client_id=%00&client_secret={wrong}"),
        None,
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    // the fast path stays for the real secret
    let r = token(
        &app,
        FORM,
        &format!("grant_type=client_credentials&client_id=fast&client_secret={fast_secret}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}
