//! tracemark's HTTP service: the JSON API under `/api/v1` (described by the OpenAPI
//! document at `/api/v1/openapi.json`, generated from the handlers), the web UI at `/`,
//! sign-in and roles, and in-process workers.
//!
//! The service holds no state of its own beyond a sign-in throttle: everything is in the
//! vault's store, so several servers and `tracemark worker` processes can share one
//! PostgreSQL database. Every vault call runs on tokio's blocking pool.

pub mod api;
pub mod auth;
pub mod error;
mod ui;
mod upload;
pub mod workers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracemark_vault::{Vault, VaultError};

pub use error::ApiError;

/// The default cap on one upload: 256 MiB.
pub const DEFAULT_MAX_UPLOAD: u64 = 256 << 20;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Largest accepted upload, bytes (larger answers 413).
    pub max_upload: u64,
    /// In-process workers (0: jobs wait for `tracemark worker` processes).
    pub workers: usize,
    /// Whether cookies are marked `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Where uploads are spooled while they arrive.
    pub spool_dir: PathBuf,
    /// The workers' options (lease length).
    pub worker: tracemark_vault::WorkerOptions,
}

impl ServeConfig {
    /// Defaults: `127.0.0.1:8080`, 256 MiB uploads, one in-process worker, spool in the
    /// system's temporary directory.
    pub fn new() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_upload: DEFAULT_MAX_UPLOAD,
            workers: 1,
            secure_cookies: false,
            spool_dir: std::env::temp_dir(),
            worker: tracemark_vault::WorkerOptions::default(),
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What every handler shares.
pub struct AppState {
    vault: Arc<Vault>,
    config: ServeConfig,
    throttle: Mutex<auth::Throttle>,
    openapi: String,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("vault", &self.vault)
            .field("config", &self.config)
            .finish()
    }
}

/// The shared state.
pub type Shared = Arc<AppState>;

impl AppState {
    /// Runs a vault call on the blocking pool.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
    {
        let vault = Arc::clone(&self.vault);
        tokio::task::spawn_blocking(move || f(&vault))
            .await
            .map_err(|e| ApiError::unavailable(format!("the task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// The configuration.
    pub fn config(&self) -> &ServeConfig {
        &self.config
    }
}

/// The application: the router with its state, and the OpenAPI document.
pub fn app(vault: Arc<Vault>, config: ServeConfig) -> Router {
    let (api, openapi) = api::router();
    let openapi = openapi.to_pretty_json().unwrap_or_else(|_| "{}".into());
    let state = Arc::new(AppState {
        vault,
        config,
        throttle: Mutex::new(auth::Throttle::default()),
        openapi,
    });
    Router::new()
        .merge(api)
        .merge(ui::router())
        .fallback(not_found)
        .layer(middleware::from_fn(json_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(req: Request<Body>) -> Response {
    ApiError::not_found(format!("no such page or endpoint: {}", req.uri().path())).into_response()
}

/// Errors that axum itself answers (405, a body over the limit) come without a body in
/// our shape: give them one, so every error is `{"error":{"code","message"}}`.
async fn json_errors(req: Request<Body>, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let typed = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if typed {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media", "unsupported content type"),
        s if s.is_server_error() => ("unavailable", "the server failed"),
        _ => ("bad_request", "the request is malformed"),
    };
    ApiError::new(status, code, message).into_response()
}

/// Runs the service until `shutdown` turns true (or Ctrl-C / SIGTERM when `None`): the
/// server and `config.workers` in-process workers; in-flight requests finish first.
pub async fn serve(
    vault: Arc<Vault>,
    config: ServeConfig,
    shutdown: Option<watch::Receiver<bool>>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    serve_on(listener, vault, config, shutdown).await
}

/// [`serve`] on a bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    vault: Arc<Vault>,
    config: ServeConfig,
    shutdown: Option<watch::Receiver<bool>>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let pool = workers::spawn(
        Arc::clone(&vault),
        config.workers,
        config.worker.clone(),
        stop_rx.clone(),
    );
    tracing::info!(addr = %listener.local_addr()?, workers = config.workers, backend = vault.backend(), "tracemark serving");
    let app = app(vault, config).into_make_service_with_connect_info::<SocketAddr>();
    let signal = async move {
        match shutdown {
            Some(mut rx) => {
                while !*rx.borrow() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            }
            None => shutdown_signal().await,
        }
        tracing::info!("shutting down: finishing requests and jobs in flight");
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .await;
    let _ = stop_tx.send(true);
    pool.join().await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
