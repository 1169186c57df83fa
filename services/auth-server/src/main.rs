//! The all-in-one binary. Without arguments it serves all four APIs on `SERVER_PORT`.
//!
//! Subcommands:
//! - `openapi --out DIR`: write the per-service OpenAPI documents.
//! - `ingress --openapi DIR --out FILE`: write the nginx routing table from the documents.
//! - `create-admin`: create the first `system_admin` (`ADMIN_EMAIL`, `ADMIN_PASSWORD`).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use auth_server::{admin, documents, ingress};
use auth_settings::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => {
            auth_host::run_with(
                "auth-server",
                |s| s.server.port,
                auth_server::openapi,
                |platform| {
                    identity::start_background(platform);
                    session::start_background(platform);
                    audit::start_background(platform);
                },
            )
            .await
        }
        Some("openapi") => {
            let out = flag(&args, "--out")?;
            documents::write_documents(&out)?;
            println!("wrote the OpenAPI documents to {}", out.display());
            Ok(())
        }
        Some("ingress") => {
            let docs = documents::read_documents(&flag(&args, "--openapi")?)?;
            let routes = ingress::routes(&docs)?;
            let out = flag(&args, "--out")?;
            std::fs::write(&out, ingress::render(&routes))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {} routes to {}", routes.len(), out.display());
            Ok(())
        }
        Some("create-admin") => {
            let settings = Settings::from_env().context("invalid configuration")?;
            println!("{}", admin::create_admin(&settings).await?);
            Ok(())
        }
        Some(other) => {
            bail!("unknown subcommand {other:?}; expected serve, openapi, ingress or create-admin")
        }
    }
}

fn flag(args: &[String], name: &str) -> anyhow::Result<PathBuf> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .with_context(|| format!("missing {name} <path>"))
}
