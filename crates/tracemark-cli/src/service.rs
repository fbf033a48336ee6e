//! `tracemark serve` and `tracemark worker`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tracemark_backends::Location;
use tracemark_vault::WorkerOptions;

fn logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRACEMARK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A worker's name: host, process and lease.
pub fn worker_options(lease_secs: u64) -> WorkerOptions {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    WorkerOptions {
        name: format!("{host}:{}", std::process::id()),
        lease: Duration::from_secs(lease_secs.clamp(1, 3600)),
    }
}

/// Opens the vault with the service's cap on decoded audio.
fn open(at: &Location, max_duration_s: f64) -> Result<Arc<tracemark_vault::Vault>> {
    if !(max_duration_s > 0.0 && max_duration_s <= 24.0 * 3600.0) {
        anyhow::bail!("--max-duration is 1 to 86400 seconds, not {max_duration_s}");
    }
    let mut vault = at
        .open()
        .with_context(|| format!("opening the vault ({})", at.describe()))?;
    let mut limits = vault.limits();
    limits.max_duration_s = max_duration_s;
    vault.set_limits(limits);
    Ok(Arc::new(vault))
}

pub fn serve(
    at: &Location,
    max_duration_s: f64,
    config: tracemark_server::ServeConfig,
) -> Result<i32> {
    logging();
    let vault = open(at, max_duration_s)?;
    let listen = config.listen;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    eprintln!(
        "tracemark: serving {} on http://{listen} ({} in-process workers)",
        at.describe(),
        config.workers
    );
    runtime
        .block_on(tracemark_server::serve(vault, config, None))
        .with_context(|| format!("serving on {listen}"))?;
    Ok(0)
}

pub fn worker(
    at: &Location,
    threads: usize,
    max_duration_s: f64,
    options: WorkerOptions,
) -> Result<i32> {
    logging();
    let vault = open(at, max_duration_s)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    eprintln!(
        "tracemark: worker {} on {} ({threads} at once)",
        options.name,
        at.describe()
    );
    runtime.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let pool = tracemark_server::workers::spawn(vault, threads.max(1), options, stop_rx);
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
        pool.join().await;
    });
    Ok(0)
}
