//! A real Cognito emulator for the bridge tests: `moto` in server mode (PyPI
//! `moto[server]`), started as a child process on a free loopback port. Pools, app clients,
//! users and groups are made through its Cognito JSON 1.1 API (moto checks no signatures,
//! so the admin calls go unsigned). Also a TCP server that accepts and never answers.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The running emulator; killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>/`, for `COGNITO_ENDPOINT`.
    pub endpoint: String,
    http: reqwest::Client,
}

/// A user pool and one app client in it.
#[derive(Clone, Debug)]
pub struct Pool {
    /// `UserPoolId`.
    pub id: String,
    /// `ClientId`.
    pub client_id: String,
    /// `ClientSecret` when the client was made with one.
    pub client_secret: Option<String>,
}

impl Pool {
    /// The app settings that point the bridge at this pool.
    pub fn settings(&self, moto: &Moto) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("COGNITO_AUTO_MIGRATE_ENABLED", "true".to_owned()),
            ("COGNITO_REGION", "us-east-1".to_owned()),
            ("COGNITO_USER_POOL_ID", self.id.clone()),
            ("COGNITO_CLIENT_ID", self.client_id.clone()),
            ("COGNITO_ENDPOINT", moto.endpoint.clone()),
            ("COGNITO_TIMEOUT", "15s".to_owned()),
        ];
        if let Some(secret) = &self.client_secret {
            vars.push(("COGNITO_CLIENT_SECRET", secret.clone()));
        }
        vars
    }
}

impl Moto {
    /// Starts `moto_server` and waits until it answers. Panics with a clear message when
    /// moto is missing (`python3 -m pip install 'moto[server]'`; `scripts/test` does it).
    pub async fn start() -> Self {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 must be installed for the Cognito tests");
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}/"),
            http: reqwest::Client::new(),
        };
        for _ in 0..200 {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto_server exited ({status}): is moto installed? \
                     (python3 -m pip install 'moto[server]')"
                );
            }
            if moto.http.get(&moto.endpoint).send().await.is_ok() {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto_server did not start within 10 s");
    }

    /// Stops the emulator (its port then refuses connections).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// One Cognito API call; panics on an error answer.
    pub async fn call(&self, action: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(&self.endpoint)
            .header(
                "X-Amz-Target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .header("Content-Type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await
            .expect("moto request");
        let status = resp.status();
        let text = resp.text().await.expect("moto body");
        assert!(status.is_success(), "{action}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A pool whose usernames are emails, and a `USER_PASSWORD_AUTH` app client (with a
    /// generated secret when `secret`).
    pub async fn pool(&self, secret: bool) -> Pool {
        let pool = self
            .call(
                "CreateUserPool",
                json!({ "PoolName": "legacy", "UsernameAttributes": ["email"] }),
            )
            .await;
        let id = pool["UserPool"]["Id"].as_str().expect("pool id").to_owned();
        let client = self
            .call(
                "CreateUserPoolClient",
                json!({
                    "UserPoolId": id,
                    "ClientName": "web",
                    "GenerateSecret": secret,
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                }),
            )
            .await;
        let c = &client["UserPoolClient"];
        Pool {
            id,
            client_id: c["ClientId"].as_str().expect("client id").to_owned(),
            client_secret: c["ClientSecret"].as_str().map(str::to_owned),
        }
    }

    /// A confirmed user with a permanent `password`, `email_verified` as given, names Ann
    /// Lee, in `groups` (created as needed). Returns the user's `sub`.
    pub async fn user(
        &self,
        pool: &Pool,
        email: &str,
        password: &str,
        verified: bool,
        groups: &[&str],
    ) -> String {
        let sub = self.temporary_user(pool, email, verified).await;
        self.call(
            "AdminSetUserPassword",
            json!({ "UserPoolId": pool.id, "Username": email, "Password": password, "Permanent": true }),
        )
        .await;
        for group in groups {
            let _ = self
                .http
                .post(&self.endpoint)
                .header(
                    "X-Amz-Target",
                    "AWSCognitoIdentityProviderService.CreateGroup",
                )
                .header("Content-Type", "application/x-amz-json-1.1")
                .body(json!({ "UserPoolId": pool.id, "GroupName": group }).to_string())
                .send()
                .await;
            self.call(
                "AdminAddUserToGroup",
                json!({ "UserPoolId": pool.id, "Username": email, "GroupName": group }),
            )
            .await;
        }
        sub
    }

    /// A user still in `FORCE_CHANGE_PASSWORD` with [`TEMP_PASSWORD`]. Returns its `sub`.
    pub async fn temporary_user(&self, pool: &Pool, email: &str, verified: bool) -> String {
        let created = self
            .call(
                "AdminCreateUser",
                json!({
                    "UserPoolId": pool.id,
                    "Username": email,
                    "TemporaryPassword": TEMP_PASSWORD,
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [
                        { "Name": "email", "Value": email },
                        { "Name": "email_verified", "Value": verified.to_string() },
                        { "Name": "given_name", "Value": "Ann" },
                        { "Name": "family_name", "Value": "Lee" },
                    ],
                }),
            )
            .await;
        created["User"]["Attributes"]
            .as_array()
            .and_then(|attrs| attrs.iter().find(|a| a["Name"] == "sub"))
            .and_then(|a| a["Value"].as_str())
            .expect("sub attribute")
            .to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The temporary password of [`Moto::temporary_user`].
pub const TEMP_PASSWORD: &str = "Temp0rary!Pass";

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A TCP server on loopback that accepts connections and never answers; its URL.
pub async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://127.0.0.1:{port}/")
}

/// An HTTP server on loopback that answers every request the way Cognito answers when it
/// throttles (`400`, `__type: TooManyRequestsException`); its URL.
pub async fn throttling_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 16 * 1024];
                // one read holds the small request; the answer closes the connection
                let _ = socket.read(&mut buf).await;
                let body = r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#;
                let reply = format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n\
                     x-amzn-ErrorType: TooManyRequestsException\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/")
}
