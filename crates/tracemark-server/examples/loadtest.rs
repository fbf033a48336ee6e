//! A bounded load test on loopback: N clients (default 50) each upload a leak to trace,
//! poll the job until it ends, and start again, for D seconds (default 60); then the
//! queue drains and every submitted job is accounted for.
//!
//! `cargo run --release -p tracemark-server --example loadtest -- [CLIENTS] [SECONDS] [WORKERS]`
//!
//! The baseline, run first in the same process: the same trace through the vault directly
//! (no HTTP, no queue), so the throughput reads as a ratio of what the workers could do.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracemark_vault::Role;

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let status = std::str::from_utf8(&out[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, out[split + 4..].to_vec()))
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[derive(Default)]
struct Tally {
    submitted: Vec<String>,
    submit_ms: Vec<f64>,
    done_ms: Vec<f64>,
    succeeded: usize,
    failed: usize,
    refused: usize,
    why: std::collections::BTreeMap<String, usize>,
}

impl Tally {
    fn refuse(&mut self, why: String) {
        self.refused += 1;
        *self.why.entry(why).or_default() += 1;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let clients: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(50);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let workers: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2);

    let t = common::TestApp::new();
    let rec = t
        .vault
        .ingest(&common::call_wav(0.0, 60.0), "call.wav", "Load")
        .expect("ingest");
    for i in 1..=20 {
        t.vault
            .add_recipient(&format!("Office {i}"), None)
            .expect("recipient");
    }
    let names: Vec<String> = (1..=20).map(|i| format!("Office {i}")).collect();
    let copies = t
        .vault
        .issue(
            rec.id.as_str(),
            &names,
            tracemark_vault::Delivery::parse("flac").expect("format"),
            |_, _| {},
        )
        .expect("issue");
    let audio = tracemark_media::decode_bytes(&copies[7].bytes, Some("flac"), &Default::default())
        .expect("decode");
    let rate = audio.rate().hz() as usize;
    let leak = tracemark_media::encode_bytes(
        &audio.slice(10 * rate, 30 * rate),
        tracemark_media::Format::Mp3,
        &tracemark_media::EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )
    .expect("mp3");

    // Baseline: the same trace through the vault, no HTTP, no queue.
    let mut base = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let r = t.vault.trace(&leak, "leak.mp3", 1e-6).expect("trace");
        base.push(t0.elapsed().as_secs_f64());
        assert_eq!(r.accused().count(), 1);
    }
    let baseline = percentile(&mut base, 0.5);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let config = tracemark_server::ServeConfig {
        workers,
        spool_dir: t.dir.path().join("spool"),
        ..tracemark_server::ServeConfig::new()
    };
    let server = tokio::spawn(tracemark_server::serve_on(
        listener,
        Arc::clone(&t.vault),
        config,
        Some(stop_rx),
    ));
    let token = t.tokens[&Role::Investigator].clone();
    let (ct, body) = common::multipart("leak.mp3", &leak, &[]);
    let body = Arc::new(body);
    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (token, ct, body, tally) = (
            token.clone(),
            ct.clone(),
            Arc::clone(&body),
            Arc::clone(&tally),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let t0 = Instant::now();
                let (status, answer) =
                    match http(addr, "POST", "/api/v1/traces", &token, &ct, &body).await {
                        Ok(r) => r,
                        Err(e) => {
                            tally
                                .lock()
                                .expect("tally")
                                .refuse(format!("connection: {e}"));
                            continue;
                        }
                    };
                let submit = t0.elapsed().as_secs_f64() * 1e3;
                if status != 202 {
                    let text = String::from_utf8_lossy(&answer)
                        .chars()
                        .take(160)
                        .collect::<String>();
                    tally
                        .lock()
                        .expect("tally")
                        .refuse(format!("{status}: {text}"));
                    continue;
                }
                let job: serde_json::Value = serde_json::from_slice(&answer).expect("json");
                let url = job["url"].as_str().expect("url").to_string();
                {
                    let mut t = tally.lock().expect("tally");
                    t.submitted.push(url.clone());
                    t.submit_ms.push(submit);
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let Ok((200, j)) =
                        http(addr, "GET", &url, &token, "application/json", b"").await
                    else {
                        continue;
                    };
                    let j: serde_json::Value = serde_json::from_slice(&j).expect("json");
                    match j["status"].as_str() {
                        Some("succeeded") => {
                            let mut t = tally.lock().expect("tally");
                            t.succeeded += 1;
                            t.done_ms.push(t0.elapsed().as_secs_f64() * 1e3);
                            break;
                        }
                        Some("failed") => {
                            let mut t = tally.lock().expect("tally");
                            t.failed += 1;
                            let why = j["error"]["message"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string();
                            *t.why.entry(format!("job failed: {why}")).or_default() += 1;
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    let wall = started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    server.await.expect("server").expect("serve");

    // Every submitted job is in the store and finished.
    let mut t2 = tally.lock().expect("tally");
    let mut lost = 0;
    for url in &t2.submitted {
        let id = url.rsplit('/').next().expect("id");
        let job = t.vault.job(id).expect("job");
        if !matches!(
            job.status,
            tracemark_vault::JobStatus::Succeeded | tracemark_vault::JobStatus::Failed
        ) {
            lost += 1;
        }
    }
    let traces = t.vault.traces().expect("traces").len() - 3;
    let verified = t.vault.verify_log().is_ok();
    let throughput = t2.succeeded as f64 / wall;
    let ideal = workers as f64 / baseline;
    let (s50, s95, s99) = (
        percentile(&mut t2.submit_ms, 0.5),
        percentile(&mut t2.submit_ms, 0.95),
        percentile(&mut t2.submit_ms, 0.99),
    );
    let (d50, d95, d99) = (
        percentile(&mut t2.done_ms, 0.5),
        percentile(&mut t2.done_ms, 0.95),
        percentile(&mut t2.done_ms, 0.99),
    );
    println!(
        "| clients | seconds | workers | submitted | succeeded | failed | refused | lost | traces logged | log verifies |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {clients} | {wall:.1} | {workers} | {} | {} | {} | {} | {lost} | {traces} | {verified} |",
        t2.submitted.len(),
        t2.succeeded,
        t2.failed,
        t2.refused
    );
    for (why, n) in &t2.why {
        println!("- {n} x {why}");
    }
    println!();
    println!(
        "baseline: one 20 s MP3 trace through the vault, no HTTP: {:.0} ms (median of 3)",
        baseline * 1e3
    );
    println!(
        "throughput: {throughput:.2} traces/s = {:.2} x the baseline's {ideal:.2}/s for {workers} workers",
        throughput / ideal
    );
    println!("upload (POST until 202): p50 {s50:.0} ms, p95 {s95:.0} ms, p99 {s99:.0} ms");
    println!(
        "upload to report (job succeeded, seen by polling every 200 ms): p50 {d50:.0} ms, p95 {d95:.0} ms, p99 {d99:.0} ms"
    );
}
