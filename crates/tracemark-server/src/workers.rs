//! In-process workers: each loops on [`Vault::work_one`] on the blocking pool, sleeping
//! briefly when no job waits, until told to stop (a job in hand is finished first).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracemark_vault::{Vault, Worked, WorkerOptions};

/// How long an idle worker waits before asking again.
pub const IDLE_POLL: Duration = Duration::from_millis(250);

/// Running workers.
#[derive(Debug)]
pub struct Pool {
    handles: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Waits for every worker to stop.
    pub async fn join(self) {
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// Starts `n` workers named after `options.name` with `/1`, `/2`...
pub fn spawn(
    vault: Arc<Vault>,
    n: usize,
    options: WorkerOptions,
    stop: watch::Receiver<bool>,
) -> Pool {
    let handles = (1..=n)
        .map(|i| {
            let vault = Arc::clone(&vault);
            let mut options = options.clone();
            options.name = format!("{}/{i}", options.name);
            let stop = stop.clone();
            tokio::spawn(run(vault, options, stop))
        })
        .collect();
    Pool { handles }
}

async fn run(vault: Arc<Vault>, options: WorkerOptions, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let v = Arc::clone(&vault);
        let o = options.clone();
        let worked = tokio::task::spawn_blocking(move || v.work_one(&o)).await;
        let idle = match worked {
            Ok(Ok(Worked::Idle)) => true,
            Ok(Ok(Worked::Finished(id, ok))) => {
                tracing::info!(worker = %options.name, job = %id, succeeded = ok, "job finished");
                false
            }
            Ok(Ok(Worked::LeaseLost(id))) => {
                tracing::warn!(worker = %options.name, job = %id, "lease lost: another worker holds the job");
                false
            }
            Ok(Err(e)) => {
                tracing::error!(worker = %options.name, error = %e, "worker failed; retrying");
                true
            }
            Err(e) => {
                tracing::error!(worker = %options.name, error = %e, "worker task failed");
                true
            }
        };
        if idle {
            tokio::select! {
                () = tokio::time::sleep(IDLE_POLL) => {},
                _ = stop.changed() => {},
            }
        }
    }
}
