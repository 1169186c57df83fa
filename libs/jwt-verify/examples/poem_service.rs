//! A downstream poem service protected by `jwt-verify` (the README's example).
//!
//! Run: `JWT_ACCESS_SECRET=... NATS_URL=nats://127.0.0.1:4222 cargo run -p jwt-verify
//! --example poem_service --features poem,nats`, then
//! `curl -H "Authorization: Bearer $TOKEN" localhost:3000/hello`.

use std::sync::Arc;

use jwt_verify::poem::BearerAuth;
use jwt_verify::revocation::nats::{NatsRevocation, NatsRevocationConfig};
use jwt_verify::{Verifier, VerifierConfig};
use poem::{EndpointExt, Route, Server, listener::TcpListener};
use poem_openapi::{OpenApi, OpenApiService, payload::PlainText};

struct Api;

#[OpenApi]
impl Api {
    /// Greets the caller.
    #[oai(path = "/hello", method = "get")]
    async fn hello(&self, auth: BearerAuth) -> PlainText<String> {
        PlainText(format!("hello {} ({:?})", auth.0.email, auth.0.roles))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = VerifierConfig::from_env()?; // JWT_ACCESS_SECRET, JWT_ISSUER, JWT_AUDIENCE
    let nats = async_nats::connect(std::env::var("NATS_URL")?).await?;
    let revocation = NatsRevocation::start(nats, NatsRevocationConfig::default()).await?;
    let verifier = Verifier::new(config, Arc::new(revocation))?;
    let app = Route::new()
        .nest("/", OpenApiService::new(Api, "demo", "1.0"))
        .data(verifier);
    Server::new(TcpListener::bind("0.0.0.0:3000"))
        .run(app)
        .await?;
    Ok(())
}
