//! A fresh Postgres database per test, cloned from a template that holds the migrated schema.
//!
//! The template is named after a hash of the embedded migration set (`authtpl_<hash>`), so an
//! edited or added migration makes a new one while other checkouts keep theirs. It is built at
//! most once per server: the builder holds a Postgres advisory lock on the admin connection,
//! and marks the database as a template only once it is fully migrated, so a build cut short
//! by a crash is noticed and redone. Cloning (`create database ... template ...`) takes a few
//! tens of milliseconds, which is why every test can afford its own database.

use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

/// Advisory-lock key serialising template builds across processes ("testkit1").
const TEMPLATE_LOCK_KEY: i64 = 0x7465_7374_6b69_7431;
/// Connections in each test's own pool (servers spawned by a test open their own).
const POOL_SIZE: u32 = 5;
/// Set to keep per-test databases after the test, for inspection with psql.
const KEEP_ENV: &str = "TESTKIT_KEEP_DB";

/// Template databases this process has already seen ready.
static TEMPLATE_READY: OnceLock<String> = OnceLock::new();

/// A database of its own for one test; dropped (with `force`) when the value is dropped.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
    pool: PgPool,
    dropped: bool,
}

impl TestDb {
    /// A fresh database holding the whole migrated schema and seeds, cloned from the template.
    /// Panics with a clear message when `DATABASE_URL` is unset or Postgres refuses.
    pub async fn new() -> Self {
        let admin_url = admin_url();
        let template = ensure_template(&admin_url).await;
        Self::create(admin_url, &template).await
    }

    /// A fresh database without any migration applied (for tests of the migrations themselves).
    pub async fn new_empty() -> Self {
        Self::create(admin_url(), "template0").await
    }

    async fn create(admin_url: String, template: &str) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connect(&admin_url).await;
        let sql = format!(r#"create database "{name}" template "{template}""#);
        let mut attempt = 0;
        loop {
            match sqlx::query(&sql).execute(&mut admin).await {
                Ok(_) => break,
                // 55006 object_in_use: a connection to the template is still closing
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55006") => {
                    attempt += 1;
                    if attempt > 50 {
                        panic!("testkit: template {template} stays in use: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("testkit: cannot create test database {name}: {e}"),
            }
        }
        let _ = admin.close().await;

        let url = with_database(&admin_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("testkit: cannot connect to test database {name}: {e}"));
        Self {
            name,
            url,
            admin_url,
            pool,
            dropped: false,
        }
    }

    /// A pool connected to this database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The `postgres://` URL of this database (to configure a server under test).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name (`t_<32 hex digits>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Close the pool and drop the database now (otherwise `Drop` does it on a helper thread).
    pub async fn cleanup(mut self) {
        self.pool.close().await;
        if !keep_databases() {
            drop_database(&self.admin_url, &self.name).await;
        }
        self.dropped = true;
    }
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped || keep_databases() {
            return;
        }
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // a runtime of its own: Drop may run inside or outside the test's runtime
        let worker =
            std::thread::spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(drop_database(&admin_url, &name)),
                    Err(e) => eprintln!("testkit: cannot drop {name}: {e}"),
                }
            });
        let _ = worker.join();
    }
}

/// The admin URL from `DATABASE_URL`; panics with a clear message when it is unset.
pub fn admin_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "DATABASE_URL is not set: tests need a Postgres URL of a role that may create \
             databases, e.g. postgres://postgres@127.0.0.1:55432/postgres"
        ),
    }
}

/// `url` pointing at database `db` instead of the one it names (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(i) => &base[..authority + i],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{db}?{query}"),
        None => format!("{base}/{db}"),
    }
}

/// Name of the template for the embedded migration set: `authtpl_` + 16 hex digits of a
/// SHA-256 over every migration's version, description and checksum.
pub fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in auth_db::MIGRATOR.iter() {
        hasher.update(migration.version.to_le_bytes());
        hasher.update(migration.description.as_bytes());
        hasher.update(&migration.checksum[..]);
    }
    let digest = hex::encode(hasher.finalize());
    format!("authtpl_{}", &digest[..16])
}

fn keep_databases() -> bool {
    std::env::var_os(KEEP_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

async fn admin_connect(admin_url: &str) -> PgConnection {
    PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("testkit: cannot connect to DATABASE_URL: {e}"))
}

/// Make sure the template exists and is complete; returns its name.
async fn ensure_template(admin_url: &str) -> String {
    if let Some(name) = TEMPLATE_READY.get() {
        return name.clone();
    }
    let name = template_name();
    let mut admin = admin_connect(admin_url).await;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("testkit: cannot take the template lock: {e}"));

    let state: Option<bool> =
        sqlx::query_scalar("select datistemplate from pg_database where datname = $1")
            .bind(&name)
            .fetch_optional(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("testkit: cannot read pg_database: {e}"));
    match state {
        Some(true) => {}
        Some(false) => {
            // left behind by a build that did not finish
            exec(
                &mut admin,
                &format!(r#"drop database "{name}" with (force)"#),
            )
            .await;
            build_template(&mut admin, admin_url, &name).await;
        }
        None => build_template(&mut admin, admin_url, &name).await,
    }

    let _ = sqlx::query("select pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    let _ = TEMPLATE_READY.set(name.clone());
    name
}

async fn build_template(admin: &mut PgConnection, admin_url: &str, name: &str) {
    exec(admin, &format!(r#"create database "{name}""#)).await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&with_database(admin_url, name))
        .await
        .unwrap_or_else(|e| panic!("testkit: cannot connect to template {name}: {e}"));
    auth_db::migrate(&pool)
        .await
        .unwrap_or_else(|e| panic!("testkit: migrating template {name} failed: {e}"));
    pool.close().await;
    exec(
        admin,
        &format!(r#"alter database "{name}" with allow_connections false is_template true"#),
    )
    .await;
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::query(sql)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("testkit: `{sql}` failed: {e}"));
}

async fn drop_database(admin_url: &str, name: &str) {
    let result = async {
        let mut admin = PgConnection::connect(admin_url).await?;
        sqlx::query(&format!(r#"drop database if exists "{name}" with (force)"#))
            .execute(&mut admin)
            .await?;
        admin.close().await
    }
    .await;
    if let Err(e) = result {
        eprintln!("testkit: cannot drop test database {name}: {e}");
    }
}
