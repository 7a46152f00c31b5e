//! The product's server as a child process on 127.0.0.1, and the HTTP clients that load it.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pub base: String,
    pub pid: u32,
    /// From spawning the process to the first healthy answer.
    pub cold_start: Duration,
}

impl Server {
    pub async fn start(binary: &Path, database: &str, log: &Path) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut child = Command::new(binary)
            .args(["--database", database, "serve", "--bind", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let pid = child.id().context("server pid")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .context("the server did not start within 120 s")??
            .with_context(|| format!("the server exited; see {}", log.display()))?;
        // "Liên Hoàn: http://127.0.0.1:PORT/  (database)"
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .context("no address in the server's first line")?
            .trim_end_matches('/')
            .to_owned();
        // Keep draining stdout so that the server never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let client = reqwest::Client::new();
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await
                && r.status().is_success()
            {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "the server is not healthy after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(Self {
            child,
            base,
            pid,
            cold_start: started.elapsed(),
        })
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// A memory figure of a process from its status file (VmRSS, VmHWM, RssAnon), in MiB.
pub fn rss_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

pub async fn login(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> anyhow::Result<String> {
    let r = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "login {user}: {status} {body}");
    Ok(body["token"].as_str().context("token")?.to_owned())
}

/// Latencies of a load run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Latencies {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub first_error: Option<String>,
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn summarise(
    mut ms: Vec<f64>,
    errors: u64,
    seconds: f64,
    first_error: Option<String>,
) -> Latencies {
    ms.sort_by(f64::total_cmp);
    Latencies {
        requests: ms.len() as u64,
        errors,
        seconds,
        per_second: ms.len() as f64 / seconds,
        p50_ms: percentile(&ms, 0.50),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
        first_error,
    }
}

/// The largest memory figures sampled under load, in MiB.
#[derive(Clone, Copy, Default)]
pub struct Peak {
    /// All resident pages, the database file's mapped pages among them.
    pub rss: f64,
    /// Resident pages of the process's own (anonymous) memory.
    pub private: f64,
}

impl Peak {
    pub fn max(self, other: Peak) -> Peak {
        Peak {
            rss: self.rss.max(other.rss),
            private: self.private.max(other.private),
        }
    }
}

/// `clients` tasks each sending requests made by `request(client_index, sequence)` until
/// `max_requests` have been sent in all or `max_time` has passed. Also samples the server's
/// memory every 100 ms and returns the largest values seen.
pub async fn run_load<F>(
    clients: usize,
    max_requests: u64,
    max_time: Duration,
    pid: u32,
    request: F,
) -> (Latencies, Peak)
where
    F: Fn(usize, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let issued = Arc::new(AtomicU64::new(0));
    let memory = MemorySampler::start(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let request = request.clone();
        let issued = issued.clone();
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max_requests || started.elapsed() > max_time {
                    break;
                }
                let t = Instant::now();
                let outcome = request(k, n).send().await;
                let ok = match outcome {
                    Ok(r) => {
                        let status = r.status();
                        let body = r.bytes().await;
                        if status.is_success() && body.is_ok() {
                            true
                        } else {
                            if first_error.is_none() {
                                first_error = Some(format!(
                                    "{status}: {}",
                                    body.map(|b| String::from_utf8_lossy(&b)
                                        .chars()
                                        .take(300)
                                        .collect::<String>())
                                        .unwrap_or_default()
                                ));
                            }
                            false
                        }
                    }
                    Err(e) => {
                        if first_error.is_none() {
                            first_error = Some(e.to_string());
                        }
                        false
                    }
                };
                if ok {
                    ms.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (ms, errors, first_error)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let (ms, e, first) = t.await.expect("a load task");
        all.extend(ms);
        errors += e;
        first_error = first_error.or(first);
    }
    let seconds = started.elapsed().as_secs_f64();
    let peak = memory.stop().await;
    (summarise(all, errors, seconds, first_error), peak)
}

/// The server's memory, sampled every 100 ms from `start` to `stop`.
pub struct MemorySampler {
    done: Arc<AtomicBool>,
    sampler: tokio::task::JoinHandle<Peak>,
}

impl MemorySampler {
    pub fn start(pid: u32) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let until = done.clone();
        let sampler = tokio::spawn(async move {
            let mut peak = Peak::default();
            while !until.load(Ordering::Relaxed) {
                peak = peak.max(Peak {
                    rss: rss_mib(pid, "VmRSS:"),
                    private: rss_mib(pid, "RssAnon:"),
                });
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        });
        Self { done, sampler }
    }

    /// The largest values seen.
    pub async fn stop(self) -> Peak {
        self.done.store(true, Ordering::Relaxed);
        self.sampler.await.unwrap_or_default()
    }
}
