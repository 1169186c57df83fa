//! Connection settings, as a plain struct: parsing the environment is another crate's job.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::DbError;

/// How to reach Postgres and how large a pool to keep. [`Default`] gives the original
/// server's defaults (`DB_HOST=localhost`, `DB_PORT=5432`, `DB_USER=postgres`, empty password,
/// `DB_NAME=auth`, `DB_SSL_MODE=disable`, 25 open / 5 idle connections, 5 min lifetime).
#[derive(Clone)]
pub struct DbConfig {
    /// A full `postgres://` URL. When set, it wins over the separate fields below.
    pub url: Option<String>,
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Role to log in as.
    pub user: String,
    /// Password; never printed by `Debug`.
    pub password: String,
    /// Database name.
    pub dbname: String,
    /// libpq sslmode: `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`.
    pub sslmode: String,
    /// Upper bound on open connections.
    pub max_connections: u32,
    /// Connections the pool tries to keep open while idle.
    pub min_connections: u32,
    /// How long acquiring a connection (including opening one) may take.
    pub connect_timeout: Duration,
    /// Connections older than this are closed and replaced; `None` keeps them.
    pub max_lifetime: Option<Duration>,
    /// Shown in `pg_stat_activity`, e.g. the service name.
    pub application_name: Option<String>,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "localhost".to_owned(),
            port: 5432,
            user: "postgres".to_owned(),
            password: String::new(),
            dbname: "auth".to_owned(),
            sslmode: "disable".to_owned(),
            max_connections: 25,
            min_connections: 5,
            connect_timeout: Duration::from_secs(5),
            max_lifetime: Some(Duration::from_secs(5 * 60)),
            application_name: None,
        }
    }
}

impl DbConfig {
    /// Settings for `url` with the other fields at their defaults.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// The sqlx connection options these settings describe.
    pub fn connect_options(&self) -> Result<PgConnectOptions, DbError> {
        let options = match &self.url {
            // url parse errors do not echo the input, so the password cannot leak here
            Some(url) => PgConnectOptions::from_str(url)
                .map_err(|e| DbError::Config(format!("database URL: {e}")))?,
            None => {
                let ssl_mode = PgSslMode::from_str(&self.sslmode)
                    .map_err(|_| DbError::Config(format!("unknown sslmode {:?}", self.sslmode)))?;
                let mut options = PgConnectOptions::new_without_pgpass()
                    .host(&self.host)
                    .port(self.port)
                    .username(&self.user)
                    .database(&self.dbname)
                    .ssl_mode(ssl_mode);
                if !self.password.is_empty() {
                    options = options.password(&self.password);
                }
                options
            }
        };
        Ok(match &self.application_name {
            Some(name) => options.application_name(name),
            None => options,
        })
    }
}

impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &self.url.as_ref().map(|_| "<redacted>"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("application_name", &self.application_name)
            .finish()
    }
}
