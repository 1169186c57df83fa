//! [`Application`]: a bound listener plus the endpoint it serves, and [`api_endpoint`], which
//! puts a service's API behind the edge next to the operational routes.

use std::time::Duration;

use anyhow::Context as _;
use auth_edge::Edge;
use poem::endpoint::BoxEndpoint;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::middleware::SetHeader;
use poem::{EndpointExt, Route, Server, get};
use poem_openapi::{OpenApi, OpenApiService};

use crate::Platform;
use crate::ops::{docs_page, health, ready};

/// Response header naming the process that answered (the ingress test reads it).
pub const SERVED_BY_HEADER: &str = "x-served-by";

/// The whole HTTP surface of one process: `api` mounted at `API_PREFIX`, the operational
/// routes at the root, everything behind the edge, with `served_by` in every response.
pub fn api_endpoint<T: OpenApi + 'static>(
    platform: &Platform,
    served_by: &str,
    api: OpenApiService<T, ()>,
) -> BoxEndpoint<'static> {
    let settings = &platform.settings;
    let prefix = settings.server.api_prefix.clone();
    let api = api.server(if prefix.is_empty() {
        "/".to_owned()
    } else {
        prefix.clone()
    });
    let spec = api.spec();
    let mut route = Route::new()
        .at("/health", get(health))
        .at("/ready", get(ready))
        .at("/metrics", platform.metrics.endpoint());
    if settings.server.api_docs {
        route = route
            .at("/openapi.json", api.spec_endpoint())
            .nest("/docs", docs_page(api.swagger_ui()));
    }
    let route = if prefix.is_empty() {
        route.nest("/", api)
    } else {
        route.nest(prefix, api)
    };
    let endpoint = route.data(platform.clone()).data(platform.verifier.clone());
    Edge::new(
        platform.edge_config(),
        platform.cache.clone(),
        platform.metrics.clone(),
    )
    .with_openapi_spec(&spec)
    .wrap(endpoint)
    .with(SetHeader::new().overriding(SERVED_BY_HEADER, served_by.to_owned()))
    .boxed()
}

/// A bound listener and the endpoint it will serve.
pub struct Application {
    acceptor: TcpAcceptor,
    port: u16,
    endpoint: BoxEndpoint<'static>,
    platform: Platform,
}

impl Application {
    /// Binds `SERVER_HOST:port` (port 0 picks a free port; see [`Application::port`]).
    pub async fn bind(
        platform: Platform,
        port: u16,
        endpoint: BoxEndpoint<'static>,
    ) -> anyhow::Result<Self> {
        let addr = platform.settings.server.bind_addr(port);
        let acceptor = TcpListener::bind(addr.clone())
            .into_acceptor()
            .await
            .with_context(|| format!("binding {addr}"))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().map(std::net::SocketAddr::port))
            .context("listener has no socket address")?;
        Ok(Self {
            acceptor,
            port,
            endpoint,
            platform,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The platform this application runs on.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Serves until SIGINT/SIGTERM or the platform's shutdown token, then lets in-flight
    /// requests finish within `SERVER_SHUTDOWN_TIMEOUT` and stops the background tasks.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.platform.shutdown.clone();
        let grace = self.platform.settings.server.shutdown_timeout;
        let signal = {
            let shutdown = shutdown.clone();
            async move {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = terminate_signal() => tracing::info!("shutdown signal received"),
                }
            }
        };
        let result = Server::new_with_acceptor(self.acceptor)
            .idle_timeout(Duration::from_secs(75))
            .run_with_graceful_shutdown(self.endpoint, signal, Some(grace))
            .await;
        shutdown.cancel();
        result.context("http server")
    }
}

async fn terminate_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
