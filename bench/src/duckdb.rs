//! DuckDB computing the product's statistics from the raw records, in a process of its own
//! (`duckdb_stats.py`) that answers one query at a time, so that its timings can be taken
//! between the product's.

use std::path::Path;
use std::process::Stdio;

use anyhow::Context;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub struct DuckDb {
    child: Child,
    input: ChildStdin,
    output: Lines<BufReader<ChildStdout>>,
    pub version: Value,
}

/// One run of a query: how long DuckDB took, and its figures.
pub struct Answer {
    pub ms: f64,
    pub rows: Value,
}

impl DuckDb {
    /// Starts the script on the records exported to `export`; it returns once DuckDB has
    /// converted them to Parquet and is ready.
    pub async fn start(
        python: &Path,
        script: &Path,
        export: &Path,
        cluster: &str,
    ) -> anyhow::Result<Self> {
        let mut child = Command::new(python)
            .arg(script)
            .arg(export)
            .arg(cluster)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {}", python.display()))?;
        let input = child.stdin.take().context("no stdin for DuckDB")?;
        let output = BufReader::new(child.stdout.take().context("no stdout for DuckDB")?).lines();
        let mut duck = Self {
            child,
            input,
            output,
            version: Value::Null,
        };
        duck.version = duck.next_line().await?["duckdb_version"].clone();
        Ok(duck)
    }

    async fn next_line(&mut self) -> anyhow::Result<Value> {
        let line = self
            .output
            .next_line()
            .await?
            .context("the DuckDB script ended early")?;
        Ok(serde_json::from_str(&line)?)
    }

    /// Runs `query` ("cluster" or "national") once.
    pub async fn run(&mut self, query: &str) -> anyhow::Result<Answer> {
        self.input
            .write_all(format!("{query}\n").as_bytes())
            .await?;
        self.input.flush().await?;
        let answer = self.next_line().await?;
        Ok(Answer {
            ms: answer["ms"].as_f64().context("DuckDB gave no time")?,
            rows: answer["rows"].clone(),
        })
    }

    /// Closes the script's input, which ends it, and waits for it.
    pub async fn finish(self) -> anyhow::Result<()> {
        let Self {
            mut child, input, ..
        } = self;
        drop(input);
        let status = child.wait().await?;
        anyhow::ensure!(status.success(), "the DuckDB script failed: {status}");
        Ok(())
    }
}
