//! The reads' load generator: `wrk` (Debian), driven by `bench/reads.lua`. It shares the two
//! cores with the server and costs it less of them than an HTTP client in this process did:
//! in runs alternating the two on one SQLite 1M database (bench/RESULTS.md, 5 December),
//! the server answered 11–29 % more requests a second under `wrk`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use tokio::process::Command;

use crate::http::{Latencies, MemorySampler, Peak};

/// What `bench/reads.lua` prints at the end of a run, times in microseconds.
#[derive(Deserialize)]
struct Figures {
    requests: u64,
    /// Connections refused, broken or timed out.
    failed: u64,
    /// Answers other than 2xx, among `requests`.
    status_errors: u64,
    seconds: f64,
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
}

/// `clients` connections asking `path` (with its query) of `base` for `time`, with `tokens`
/// taken in turn; the latencies of all answers, and the server's peak memory meanwhile.
pub async fn reads(
    base: &str,
    path: &str,
    tokens: &[String],
    clients: usize,
    time: Duration,
    pid: u32,
) -> anyhow::Result<(Latencies, Peak)> {
    let tokens_file = std::env::temp_dir().join(format!("lienhoan-bench-{}.tokens", pid));
    std::fs::write(&tokens_file, tokens.join("\n") + "\n")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("reads.lua");
    let memory = MemorySampler::start(pid);
    let output = Command::new("wrk")
        .arg(format!("-c{clients}"))
        .arg(format!("-t{}", clients.min(2)))
        .arg(format!("-d{}s", time.as_secs().max(1)))
        .arg("-s")
        .arg(&script)
        .arg(base)
        .env("TOKENS", &tokens_file)
        .env("REQUEST_PATH", path)
        .output()
        .await
        .context("cannot run wrk (bench/need-wrk installs it)");
    let peak = memory.stop().await;
    std::fs::remove_file(&tokens_file)?;
    let output = output?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("wrk-json "))
        .with_context(|| format!("no figures in wrk's output: {stdout}"))?;
    let f: Figures = serde_json::from_str(line)?;
    let errors = f.failed + f.status_errors;
    let answered = f.requests - f.status_errors;
    Ok((
        Latencies {
            requests: answered,
            errors,
            seconds: f.seconds,
            per_second: answered as f64 / f.seconds,
            p50_ms: f.p50_us / 1000.0,
            p99_ms: f.p99_us / 1000.0,
            max_ms: f.max_us / 1000.0,
            first_error: (errors > 0).then(|| {
                format!(
                    "wrk: {} connections failed, {} answers not 2xx",
                    f.failed, f.status_errors
                )
            }),
        },
        peak,
    ))
}
