//! `lienhoan-bench`: loads a deterministic national dataset through the product's own bulk
//! path and measures the product beside the raw engines and DuckDB. See `bench/README.md`.

mod dataset;
mod http;
mod load;
mod raw;
mod wrk;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use lienhoan_store::Store;
use lienhoan_store_sql::SqlStore;
use lienhoan_store_sql::engine::Engine;
use serde_json::{Value, json};

use crate::dataset::{Plan, Rng, fresh_incident};
use crate::http::{Latencies, Peak, Server, login, rss_mib, run_load, summarise};
use crate::load::{Loaded, PASSWORD};
use crate::raw::RawRow;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum EngineName {
    Sqlite,
    Postgres,
}

impl EngineName {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Parser)]
#[command(
    name = "lienhoan-bench",
    about = "Liên Hoàn at national scale, beside the raw engines and DuckDB"
)]
struct Args {
    /// Engines to measure, one after the other.
    #[arg(long = "engine", value_enum, required = true)]
    engines: Vec<EngineName>,
    #[arg(long, default_value_t = 1_000_000)]
    incidents: u64,
    #[arg(long, default_value_t = 1000)]
    clusters: usize,
    #[arg(long, default_value_t = 20_260_701)]
    seed: u64,
    /// Only load and check the figures against DuckDB; no timing.
    #[arg(long)]
    smoke: bool,
    /// The `lienhoan` binary to serve with.
    #[arg(long, default_value = "target/release/lienhoan")]
    server: PathBuf,
    /// Any database of the PostgreSQL server; fresh databases are created beside it.
    #[arg(
        long,
        env = "LIENHOAN_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres: String,
    /// A Python with the `duckdb` package.
    #[arg(long, default_value = "bench/.venv/bin/python")]
    python: PathBuf,
    #[arg(long, default_value = "bench/duckdb_stats.py")]
    duckdb_script: PathBuf,
    /// Scratch space: databases, exports, server logs.
    #[arg(long, default_value = "bench/work")]
    work: PathBuf,
    #[arg(long, default_value = "bench/results")]
    results: PathBuf,
    /// Measure again on the database an earlier run of the same engine and N loaded, skipping
    /// the load and the bulk comparison (its figures come from the load).
    #[arg(long)]
    reuse: bool,
    /// Upper bound of each load phase, in seconds.
    #[arg(long, default_value_t = 30)]
    phase_seconds: u64,
    /// `import_incidents` calls in flight at once during the load.
    #[arg(long, default_value_t = 4)]
    imports_in_flight: usize,
}

fn phase(message: &str) {
    eprintln!("-- {message}");
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut passed = 0;
    let mut failed = 0;
    for engine in args.engines.clone() {
        match bench_engine(&args, engine).await {
            Ok((p, f)) => {
                passed += p;
                failed += f;
            }
            Err(e) => {
                eprintln!("bench {}: {e:#}", engine.as_str());
                failed += 2;
            }
        }
    }
    let label = if args.smoke {
        "bench smoke"
    } else {
        "bench checks"
    };
    println!("{label}: {passed} passed, {failed} failed");
    if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, _) = base.rsplit_once('/').unwrap_or((base, ""));
    format!("{server}/{name}{query}")
}

async fn fresh_postgres(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let client = raw::pg_connect(admin_url).await?;
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(with_database(admin_url, name))
}

/// An empty `incidents` table in a fresh raw database, with the generated columns and indexes
/// the product's has.
async fn raw_postgres(args: &Args, product: &str) -> anyhow::Result<tokio_postgres::Client> {
    let additions = raw::pg_table_additions(&raw::pg_connect(product).await?).await?;
    let url = fresh_postgres(&args.postgres, "lienhoan_bench_raw").await?;
    let client = raw::pg_connect(&url).await?;
    raw::pg_prepare(&client, &additions).await?;
    Ok(client)
}

/// Waits until no statement but ours has run on the database for a second (at most a minute):
/// the server rewrites the statistics rollups when it starts, and nothing is measured meanwhile.
async fn settle_postgres(url: &str) -> anyhow::Result<()> {
    let client = raw::pg_connect(url).await?;
    let started = Instant::now();
    let mut quiet = 0;
    while quiet < 10 && started.elapsed() < Duration::from_secs(60) {
        let busy: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()",
                &[],
            )
            .await?
            .get(0);
        quiet = if busy == 0 { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The same on SQLite, in a fresh file at `path`.
fn raw_sqlite(product: &str, path: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    let indexes = raw::sqlite_indexes(std::path::Path::new(product))?;
    raw::sqlite_open(path, &indexes)
}

async fn open_store(location: &str, postgres: bool) -> anyhow::Result<Arc<dyn Store>> {
    let engine: Box<dyn Engine> = if postgres {
        Box::new(lienhoan_store_postgres::PostgresEngine::open(location).await?)
    } else {
        Box::new(lienhoan_store_sqlite::SqliteEngine::open(location).await?)
    };
    lienhoan_store_sql::migrate(engine.as_ref()).await?;
    Ok(Arc::new(SqlStore::new(engine)))
}

type FigureMap = BTreeMap<Vec<String>, BTreeMap<String, i64>>;

fn figure_map(rows: &Value) -> anyhow::Result<FigureMap> {
    let mut out = BTreeMap::new();
    for row in rows.as_array().context("rows")? {
        let keys = row["keys"]
            .as_array()
            .context("keys")?
            .iter()
            .map(|k| k.as_str().unwrap_or_default().to_owned())
            .collect();
        let figures = row["figures"]
            .as_object()
            .context("figures")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(i64::MIN)))
            .collect();
        out.insert(keys, figures);
    }
    Ok(out)
}

/// Equal figures, or a description of the first differences.
fn compare(name: &str, product: &FigureMap, duckdb: &FigureMap) -> Result<String, String> {
    let mut problems = Vec::new();
    for (key, ours) in product {
        match duckdb.get(key) {
            None => problems.push(format!("{key:?}: only in the product")),
            Some(theirs) => {
                for (measure, value) in ours {
                    let other = theirs.get(measure).copied().unwrap_or(0);
                    if other != *value {
                        problems.push(format!(
                            "{key:?} {measure}: product {value}, DuckDB {other}"
                        ));
                    }
                }
            }
        }
    }
    for key in duckdb.keys() {
        if !product.contains_key(key) {
            problems.push(format!("{key:?}: only in DuckDB"));
        }
    }
    let incidents: i64 = product.values().map(|f| f["incidents"]).sum();
    if problems.is_empty() {
        Ok(format!(
            "{name}: {} rows, {incidents} incidents, all 8 measures equal",
            product.len()
        ))
    } else {
        Err(format!(
            "{name}: {} difference(s): {}",
            problems.len(),
            problems
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `runs` sequential GETs (bounded by `max_time`) and returns the last body.
async fn timed_gets(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    runs: usize,
    max_time: Duration,
) -> anyhow::Result<(Value, Latencies)> {
    let started = Instant::now();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        // To the answer's last byte; reading its JSON is the client's work, done after.
        let t = Instant::now();
        let response = client.get(url).bearer_auth(token).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        times.push(ms(t.elapsed()));
        anyhow::ensure!(
            status.is_success(),
            "GET {url}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        last = Some(body);
        if started.elapsed() > max_time {
            break;
        }
    }
    Ok((
        serde_json::from_slice(&last.context("no answer was timed")?)?,
        summarise(times, 0, started.elapsed().as_secs_f64(), None),
    ))
}

fn p(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for k in path {
        cur = &cur[*k];
    }
    cur.as_f64().unwrap_or(f64::NAN)
}

async fn bench_engine(args: &Args, engine: EngineName) -> anyhow::Result<(u32, u32)> {
    let n = args.incidents;
    let name = engine.as_str();
    let postgres = engine == EngineName::Postgres;
    let work = args.work.join(format!("{name}-{n}"));
    let database = format!("lienhoan_bench_{n}");
    let loaded_file = work.join("loaded.json");
    std::fs::create_dir_all(&args.results)?;
    phase(&format!(
        "{name}: planning {n} incidents (seed {})",
        args.seed
    ));
    let plan = Plan::new(args.seed, n, args.clusters)?;
    if !args.reuse {
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
    }
    let location = if !postgres {
        work.join("lienhoan.db").display().to_string()
    } else if args.reuse {
        with_database(&args.postgres, &database)
    } else {
        fresh_postgres(&args.postgres, &database).await?
    };
    let loaded: Loaded = if args.reuse {
        phase(&format!("{name}: reusing the database loaded earlier"));
        serde_json::from_slice(&std::fs::read(&loaded_file).with_context(|| {
            format!("--reuse needs an earlier run's {}", loaded_file.display())
        })?)?
    } else {
        phase(&format!("{name}: loading through the Store API"));
        let store = open_store(&location, postgres).await?;
        let loaded = load::load(store.as_ref(), &plan, &work, args.imports_in_flight, true).await?;
        drop(store);
        std::fs::write(&loaded_file, serde_json::to_vec(&loaded)?)?;
        loaded
    };
    if postgres {
        // What autovacuum does soon after a load in a default installation; this machine's
        // PostgreSQL runs with autovacuum off, which left the planner without statistics and
        // the counter tables full of the versions their upserts replaced (the yearly rollup
        // read by the national year: 15,653 live rows beside 585,421 dead at 10M, its query
        // 6.6 ms on the 1,184 pages they fill). A reused database holds the rows that earlier
        // runs' ingest phases added since: never vacuumed, their pages sent every index-only
        // read of the officers' incidents to the table (searches 82.5 ms at p50 instead of
        // 39.7 at 10M after a dozen runs).
        let after = if args.reuse {
            "the earlier runs' ingest"
        } else {
            "the load"
        };
        phase(&format!("{name}: VACUUM (ANALYZE) after {after}"));
        raw::pg_connect(&location)
            .await?
            .batch_execute("VACUUM (ANALYZE)")
            .await?;
    }
    if !args.reuse {
        // What the product's documentation asks for after a large import, and what the server
        // does daily.
        phase(&format!("{name}: compacting the statistics rollups"));
        let started = Instant::now();
        open_store(&location, postgres)
            .await?
            .compact_statistics(&lienhoan_domain::access::Actor::system())
            .await?;
        eprintln!("   compacted in {:.1} s", started.elapsed().as_secs_f64());
    }
    let bulk_rate = loaded.import_rows as f64 / loaded.import_seconds;
    eprintln!(
        "   setup {:.1} s; {} incidents imported in {:.1} s ({:.0} rows/s)",
        loaded.setup_seconds, loaded.import_rows, loaded.import_seconds, bulk_rate
    );

    let mut results = json!({
        "engine": name,
        "incidents": n,
        "seed": args.seed,
        "clusters": plan.clusters.len(),
        "organisations": plan.communes.len(),
        "provinces": plan.provinces.len(),
        "machine": machine(),
        "smoke": args.smoke,
    });

    // Raw bulk baseline.
    let single_rows = |count: u64| {
        let plan = &plan;
        let loaded = &loaded;
        let now = time::OffsetDateTime::now_utc();
        (0..count).map(move |k| {
            let (_, commune) = &loaded.officers[(k % load::OFFICERS as u64) as usize];
            let mut rng = Rng::new(plan.seed ^ (k + 1).wrapping_mul(0xA076_1D64_78BD_642F));
            let input = fresh_incident(
                &mut rng,
                &plan.communes[*commune],
                loaded.commune_ids[*commune],
                now,
            );
            RawRow::new(loaded.organisation_ids[*commune], input)
        })
    };
    let batches = || {
        (0..plan.communes.len()).map(|c| {
            plan.incidents(c, loaded.commune_ids[c])
                .into_iter()
                .map(|i| RawRow::new(loaded.organisation_ids[c], i))
                .collect::<Vec<_>>()
        })
    };
    let phase_time = Duration::from_secs(args.phase_seconds);
    if !args.smoke && !args.reuse {
        phase(&format!(
            "{name}: raw engine, bulk insert of the same {n} rows"
        ));
        let (raw_bulk_rows, raw_bulk_seconds) = if postgres {
            raw::pg_bulk(&raw_postgres(args, &location).await?, batches()).await?
        } else {
            let path = work.join("raw-bulk.db");
            let mut conn = raw_sqlite(&location, &path)?;
            let bulk = raw::sqlite_bulk(&mut conn, batches())?;
            drop(conn);
            let _ = std::fs::remove_file(&path);
            bulk
        };
        let raw_bulk_rate = raw_bulk_rows as f64 / raw_bulk_seconds;
        results["bulk"] = json!({
            "product_rows": loaded.import_rows,
            "product_seconds": loaded.import_seconds,
            "product_rows_per_s": bulk_rate,
            "raw_rows": raw_bulk_rows,
            "raw_seconds": raw_bulk_seconds,
            "raw_rows_per_s": raw_bulk_rate,
            "raw_method": if postgres { "one COPY" } else { "one transaction, prepared INSERT" },
            "ratio": bulk_rate / raw_bulk_rate,
            "setup_seconds": loaded.setup_seconds,
        });
    }
    if !args.smoke {
        phase(&format!("{name}: raw engine, one transaction per row"));
        let (raw_single_rows, raw_single_seconds) = if postgres {
            let client = raw_postgres(args, &location).await?;
            raw::pg_single(&client, single_rows(50_000), 50_000, phase_time).await?
        } else {
            let mut conn = raw_sqlite(&location, &work.join("raw-single.db"))?;
            raw::sqlite_single(&mut conn, single_rows(50_000), 50_000, phase_time)?
        };
        results["ingest"] = json!({
            "raw_rows": raw_single_rows,
            "raw_seconds": raw_single_seconds,
            "raw_rows_per_s": raw_single_rows as f64 / raw_single_seconds,
        });
    }

    if postgres {
        // The load and the raw phases leave gigabytes for the checkpointer to write, which it
        // would do while the reads are measured.
        raw::pg_connect(&location)
            .await?
            .batch_execute("CHECKPOINT")
            .await?;
    }
    phase(&format!("{name}: starting the server"));
    let server_log = work.join("server.log");
    let server = Server::start(&args.server, &location, &server_log).await?;
    let mut cold_starts = vec![ms(server.cold_start)];
    tokio::time::sleep(Duration::from_secs(1)).await;
    if postgres {
        settle_postgres(&location).await?;
    }
    let rss_rest = rss_mib(server.pid, "VmRSS:");
    let client = http::client(64);
    let base = server.base.clone();
    let admin = login(&client, &base, &loaded.admin, PASSWORD).await?;
    let mut officer_tokens = Vec::new();
    for (user, _) in &loaded.officers {
        officer_tokens.push(login(&client, &base, user, PASSWORD).await?);
    }

    // Statistics: the product over HTTP, DuckDB over the exported records.
    phase(&format!("{name}: statistics"));
    let (runs_cluster, runs_national) = if args.smoke { (1, 1) } else { (300, 100) };
    let cluster_url = format!(
        "{base}/api/v1/statistics?cluster={}&from=2021-01-01&to=2025-12-31&group_by=category_group,outcome",
        loaded.review_cluster
    );
    let national_url = format!(
        "{base}/api/v1/statistics?from=2025-01-01&to=2025-12-31&group_by=province,category"
    );
    let (cluster_body, cluster_lat) =
        timed_gets(&client, &cluster_url, &admin, runs_cluster, phase_time).await?;
    let (national_body, national_lat) =
        timed_gets(&client, &national_url, &admin, runs_national, phase_time).await?;
    let duck_out = work.join("duckdb.json");
    let duck_runs = if args.smoke { 1 } else { 20 };
    let status = std::process::Command::new(&args.python)
        .arg(&args.duckdb_script)
        .arg(&work)
        .arg(loaded.review_cluster.to_string())
        .arg(duck_runs.to_string())
        .arg(&duck_out)
        .status()
        .with_context(|| format!("cannot run {}", args.python.display()))?;
    anyhow::ensure!(status.success(), "the DuckDB script failed");
    let duck: Value = serde_json::from_slice(&std::fs::read(&duck_out)?)?;
    let mut passed = 0;
    let mut failed = 0;
    let mut checks = Vec::new();
    for (label, body, key) in [
        ("cluster five-year review", &cluster_body, "cluster"),
        (
            "national one-year province x category",
            &national_body,
            "national",
        ),
    ] {
        let outcome = compare(
            label,
            &figure_map(&body["rows"])?,
            &figure_map(&duck[key]["rows"])?,
        );
        match &outcome {
            Ok(m) => {
                passed += 1;
                println!("check {name} {m}");
            }
            Err(m) => {
                failed += 1;
                println!("CHECK FAILED {name} {m}");
            }
        }
        checks.push(json!({"name": label, "equal": outcome.is_ok(), "detail": outcome.unwrap_or_else(|e| e)}));
    }
    results["checks"] = json!(checks);
    let duck_lat = |key: &str| {
        let times: Vec<f64> = duck[key]["ms"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        let total = times.iter().sum::<f64>() / 1000.0;
        summarise(times, 0, total, None)
    };
    let (duck_cluster, duck_national) = (duck_lat("cluster"), duck_lat("national"));
    results["statistics"] = json!({
        "review_cluster": loaded.review_cluster,
        "cluster_rows": cluster_body["rows"].as_array().map(Vec::len),
        "national_rows": national_body["rows"].as_array().map(Vec::len),
        "product_cluster": cluster_lat,
        "product_national": national_lat,
        "duckdb_cluster": duck_cluster,
        "duckdb_national": duck_national,
        "duckdb_version": duck["duckdb_version"],
        "ratio_cluster_p50": duck_cluster.p50_ms / cluster_lat.p50_ms,
        "ratio_national_p50": duck_national.p50_ms / national_lat.p50_ms,
    });

    if args.smoke {
        server.stop().await?;
        write_results(args, name, n, &results)?;
        return Ok((passed, failed));
    }

    // Reads under 64 concurrent clients.
    let mut peak = Peak::default();
    let mut reads = serde_json::Map::new();
    let workloads: [(&str, bool, Option<&str>); 3] = [
        ("list_officer", false, None),
        ("search_officer", false, Some("xe máy")),
        ("list_admin", true, None),
    ];
    for (label, as_admin, text) in workloads {
        phase(&format!("{name}: reads, {label}, 64 clients"));
        let mut query = vec![("limit", "50")];
        query.extend(text.map(|q| ("q", q)));
        let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/incidents"), &query)?;
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let tokens = if as_admin {
            vec![admin.clone()]
        } else {
            officer_tokens.clone()
        };
        // Every viewer's answer is a page before any is timed: errors answer fast.
        for token in &tokens {
            client
                .get(url.clone())
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?;
        }
        let (lat, reads_peak) =
            wrk::reads(&base, &path, &tokens, 64, phase_time, server.pid).await?;
        peak = peak.max(reads_peak);
        reads.insert(label.into(), serde_json::to_value(&lat)?);
    }
    results["reads"] = Value::Object(reads);

    // HTTP ingest: 32 officers, one incident per request.
    phase(&format!("{name}: HTTP ingest, 32 clients"));
    let officers: Arc<Vec<(String, dataset::Commune, uuid::Uuid)>> = Arc::new(
        loaded
            .officers
            .iter()
            .zip(&officer_tokens)
            .map(|((_, c), t)| (t.clone(), plan.communes[*c].clone(), loaded.commune_ids[*c]))
            .collect(),
    );
    let seed = plan.seed;
    let url = format!("{base}/api/v1/incidents");
    let ingest_client = client.clone();
    let now = time::OffsetDateTime::now_utc();
    let (ingest, ingest_peak) = run_load(32, 100_000, phase_time, server.pid, move |k, seq| {
        let (token, commune, commune_id) = &officers[k % officers.len()];
        let mut rng = Rng::new(seed ^ 0x1234_5678 ^ seq.wrapping_mul(0x9E37_79B9));
        let body = fresh_incident(&mut rng, commune, *commune_id, now);
        ingest_client.post(&url).bearer_auth(token).json(&body)
    })
    .await;
    peak = peak.max(ingest_peak);
    let raw_single = p(&results, &["ingest", "raw_rows_per_s"]);
    results["ingest"]["product"] = serde_json::to_value(&ingest)?;
    results["ingest"]["product_incidents_per_s"] = json!(ingest.per_second);
    results["ingest"]["ratio"] = json!(ingest.per_second / raw_single);
    let peak_hwm = rss_mib(server.pid, "VmHWM:");
    server.stop().await?;

    // Cold starts on the loaded database.
    phase(&format!("{name}: cold starts"));
    let mut rest_after = f64::NAN;
    for k in 0..2 {
        let log = work.join(format!("server-restart-{k}.log"));
        let s = Server::start(&args.server, &location, &log).await?;
        cold_starts.push(ms(s.cold_start));
        tokio::time::sleep(Duration::from_millis(500)).await;
        rest_after = rss_mib(s.pid, "VmRSS:");
        s.stop().await?;
    }
    cold_starts.sort_by(f64::total_cmp);
    results["footprint"] = json!({
        "rss_at_rest_mib": rss_rest,
        "rss_at_rest_after_restart_mib": rest_after,
        "rss_peak_sampled_under_load_mib": peak.rss,
        "rss_high_water_mark_mib": peak_hwm,
        // SQLite maps the database file: its pages count in the RSS above but are the
        // kernel's page cache, shared and reclaimed under pressure. This is the memory the
        // server itself holds.
        "private_peak_sampled_under_load_mib": peak.private,
        "binary_bytes": std::fs::metadata(&args.server).map(|m| m.len()).unwrap_or(0),
        "cold_start_ms": cold_starts,
        "cold_start_median_ms": cold_starts[cold_starts.len() / 2],
    });
    results["targets"] = targets(&results);
    write_results(args, name, n, &results)?;
    print_tables(&results);
    Ok((passed, failed))
}

fn targets(r: &Value) -> Value {
    let ratio_cluster = p(r, &["statistics", "ratio_cluster_p50"]);
    let ratio_national = p(r, &["statistics", "ratio_national_p50"]);
    let reads_p99 = ["list_officer", "search_officer", "list_admin"]
        .iter()
        .map(|k| p(r, &["reads", k, "p99_ms"]))
        .fold(0f64, f64::max);
    json!({
        "statistics_20x_faster_than_duckdb": ratio_cluster >= 20.0 && ratio_national >= 20.0,
        "ingest_at_least_30_percent_of_raw": p(r, &["ingest", "ratio"]) >= 0.30,
        "bulk_at_least_50_percent_of_raw": p(r, &["bulk", "ratio"]) >= 0.50,
        "reads_p99_at_most_25_ms": reads_p99 <= 25.0,
        "rss_at_most_150_mib": p(r, &["footprint", "rss_high_water_mark_mib"]) <= 150.0,
        "private_memory_at_most_150_mib": p(r, &["footprint", "private_peak_sampled_under_load_mib"]) <= 150.0,
    })
}

fn write_results(args: &Args, engine: &str, n: u64, results: &Value) -> anyhow::Result<()> {
    // A reused database has no bulk figures: its file stays beside the full run's.
    let suffix = match (args.smoke, args.reuse) {
        (true, _) => "-smoke",
        (false, true) => "-reused",
        (false, false) => "",
    };
    let path = args.results.join(format!("{engine}-{n}{suffix}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(results)? + "\n")?;
    eprintln!("   results written to {}", path.display());
    Ok(())
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1).map(|m| m.trim().to_owned()))
        })
        .unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "memory": memory.split_whitespace().skip(1).collect::<Vec<_>>().join(" "),
    })
}

fn print_tables(r: &Value) {
    let engine = r["engine"].as_str().unwrap_or_default();
    let n = r["incidents"].as_u64().unwrap_or(0);
    println!("\n== {engine}, {n} incidents");
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "write path", "product", "raw engine", "ratio"
    );
    println!(
        "{:<44} {:>14.0} {:>14.0} {:>8.3}",
        "ingest, incidents/s (HTTP, 32 clients)",
        p(r, &["ingest", "product_incidents_per_s"]),
        p(r, &["ingest", "raw_rows_per_s"]),
        p(r, &["ingest", "ratio"])
    );
    println!(
        "{:<44} {:>14.0} {:>14.0} {:>8.3}",
        "bulk import, rows/s",
        p(r, &["bulk", "product_rows_per_s"]),
        p(r, &["bulk", "raw_rows_per_s"]),
        p(r, &["bulk", "ratio"])
    );
    println!(
        "\n{:<44} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "statistics (ms)", "p50", "p99", "DuckDB50", "DuckDB99", "ratio"
    );
    for (label, ours, theirs, ratio) in [
        (
            "cluster five-year review",
            "product_cluster",
            "duckdb_cluster",
            "ratio_cluster_p50",
        ),
        (
            "national year, province x category",
            "product_national",
            "duckdb_national",
            "ratio_national_p50",
        ),
    ] {
        println!(
            "{:<44} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8.2}",
            label,
            p(r, &["statistics", ours, "p50_ms"]),
            p(r, &["statistics", ours, "p99_ms"]),
            p(r, &["statistics", theirs, "p50_ms"]),
            p(r, &["statistics", theirs, "p99_ms"]),
            p(r, &["statistics", ratio]),
        );
    }
    println!(
        "\n{:<44} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "reads, 64 clients (ms)", "p50", "p99", "max", "req/s", "errors"
    );
    for key in ["list_officer", "search_officer", "list_admin"] {
        println!(
            "{:<44} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7}",
            key,
            p(r, &["reads", key, "p50_ms"]),
            p(r, &["reads", key, "p99_ms"]),
            p(r, &["reads", key, "max_ms"]),
            p(r, &["reads", key, "per_second"]),
            p(r, &["reads", key, "errors"]),
        );
    }
    println!(
        "\nfootprint: RSS at rest {:.1} MiB, peak {:.1} MiB (high-water mark; private memory {:.1} MiB), binary {:.1} MiB, cold start {:.0} ms (median of 3)",
        p(r, &["footprint", "rss_at_rest_mib"]),
        p(r, &["footprint", "rss_high_water_mark_mib"]),
        p(r, &["footprint", "private_peak_sampled_under_load_mib"]),
        p(r, &["footprint", "binary_bytes"]) / 1_048_576.0,
        p(r, &["footprint", "cold_start_median_ms"]),
    );
    println!("targets: {}", r["targets"]);
}
