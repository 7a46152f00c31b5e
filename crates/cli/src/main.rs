//! The `lienhoan` binary.

mod database;
mod demo;
mod geo;
mod user;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::ProgressBar;
use lienhoan_domain::access::Actor;
use lienhoan_domain::register::{DEFAULT_RETENTION_DAYS, purge_cutoff};
use lienhoan_store::Store;

// A list page makes over a thousand small allocations (a text per column, a string per field, the
// JSON); glibc's allocator was 19 % of the SQLite server's samples under 64 clients, and
// mimalloc served 17–45 % more officers' lists a second (bench/RESULTS.md, 4 December).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lienhoan",
    version,
    about = "Liên Hoàn — border-area security-and-order clusters"
)]
struct Cli {
    /// A SQLite file path, a `sqlite:` URL or a `postgres://` URL.
    #[arg(
        long,
        global = true,
        env = "LIENHOAN_DATABASE_URL",
        default_value = "lienhoan.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web server (migrating the database first).
    Serve {
        #[arg(long, env = "LIENHOAN_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Loads the demo clusters and one account per role (password `demo`) first.
        #[arg(long)]
        demo: bool,
        /// Marks cookies `Secure`; set when serving behind HTTPS.
        #[arg(long, env = "LIENHOAN_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Days a supervised person's record is kept after the decision ends; purged daily.
        #[arg(long, env = "LIENHOAN_REGISTER_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
        retention_days: i64,
    },
    /// Deletes supervised-person records whose decision ended more than the retention ago.
    Purge {
        #[arg(long, env = "LIENHOAN_REGISTER_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
        retention_days: i64,
    },
    /// Brings the database schema up to date.
    Migrate,
    /// Stores the statistics rollups in key order again (PostgreSQL), so that reports read a
    /// year from few pages; run after a large import. The server does it daily.
    CompactStatistics,
    /// Loads the demo data (idempotent).
    Demo,
    /// Manages accounts.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Imports a filled incident template (CSV or XLSX): every row, or none.
    Import {
        file: std::path::PathBuf,
        /// The owning organisation's id.
        #[arg(long)]
        organisation: uuid::Uuid,
    },
    /// Administrative geography.
    Geo {
        #[command(subcommand)]
        command: GeoCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum GeoCommand {
    /// Loads the shipped lists of provinces, districts and communes (before and after 1 July
    /// 2025) with the old→new mapping.
    Import,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks the hash chain; exits non-zero naming the first bad entry.
    Verify,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lienhoan: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Migrate => {
            let applied = database::migrate(&cli.database).await?;
            println!(
                "{}: {applied} migration(s) applied",
                database::display(&cli.database)
            );
        }
        Command::Serve {
            bind,
            demo,
            secure_cookies,
            retention_days,
        } => {
            let store = database::open(&cli.database).await?;
            if demo {
                load_demo(store.as_ref()).await?;
            }
            tokio::spawn(maintain_daily(store.clone(), retention_days));
            serve(store, &bind, &cli.database, demo, secure_cookies).await?;
        }
        Command::Import { file, organisation } => {
            let store = database::open(&cli.database).await?;
            return import_incidents(store.as_ref(), &file, organisation).await;
        }
        Command::Purge { retention_days } => {
            let store = database::open(&cli.database).await?;
            let removed = purge(store.as_ref(), retention_days).await?;
            println!(
                "{removed} expired register record(s) deleted; the audit log keeps their entries"
            );
        }
        Command::CompactStatistics => {
            let store = database::open(&cli.database).await?;
            store.compact_statistics(&Actor::system()).await?;
            println!("statistics rollups compacted");
        }
        Command::Demo => {
            let store = database::open(&cli.database).await?;
            load_demo(store.as_ref()).await?;
        }
        Command::User { command } => {
            let store = database::open(&cli.database).await?;
            user::run(store.as_ref(), command).await?;
        }
        Command::Geo {
            command: GeoCommand::Import,
        } => {
            let store = database::open(&cli.database).await?;
            let summary = geo::import(store.as_ref(), true).await?;
            println!(
                "{} units added, {} already present, {} old→new links added",
                summary.units_added, summary.units_unchanged, summary.successions_added
            );
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = database::open(&cli.database).await?;
            return verify_audit(store.as_ref()).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn load_demo(store: &dyn Store) -> anyhow::Result<()> {
    let demo_present = store
        .user_by_username(&Actor::system(), demo::ACCOUNTS[0].0)
        .await
        .is_ok();
    if demo::has_accounts(store).await? && !demo_present {
        anyhow::bail!(
            "this database has real accounts; demo data (with the password `demo`) is only loaded into an empty database"
        );
    }
    let summary = demo::load(store)
        .await
        .context("cannot load the demo data")?;
    eprintln!(
        "demo data: {} organisations, {} clusters, {} accounts added",
        summary.organisations_added, summary.clusters_added, summary.accounts_added
    );
    Ok(())
}

async fn serve(
    store: std::sync::Arc<dyn Store>,
    bind: &str,
    database: &str,
    demo: bool,
    secure_cookies: bool,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    println!(
        "Liên Hoàn: http://{address}/  ({})",
        database::display(database)
    );
    if demo {
        let names: Vec<&str> = demo::ACCOUNTS.iter().map(|a| a.0).collect();
        println!(
            "Demo logins: {} — password `{}`",
            names.join(", "),
            demo::DEMO_PASSWORD
        );
    }
    lienhoan_web::serve(lienhoan_web::AppState::new(store, secure_cookies), listener).await?;
    Ok(())
}

async fn import_incidents(
    store: &dyn Store,
    file: &std::path::Path,
    organisation: uuid::Uuid,
) -> anyhow::Result<ExitCode> {
    use lienhoan_import::incidents::{ImportError, import};
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let bar = ProgressBar::new_spinner();
    bar.set_message("Nhập vụ việc / importing incidents");
    let result = import(store, &Actor::system(), organisation, &bytes, &|n| {
        bar.set_message(format!("{n} rows written"))
    })
    .await;
    bar.finish_and_clear();
    match result {
        Ok(count) => {
            println!("{count} incidents imported");
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportError::Cells(errors)) => {
            eprintln!("nothing imported: {} problem(s)", errors.len());
            for e in errors.iter().take(50) {
                eprintln!(
                    "  line {}, column {}: {} {:?}",
                    e.line, e.column, e.key, e.value
                );
            }
            Ok(ExitCode::from(2))
        }
        Err(ImportError::Unreadable(detail)) => anyhow::bail!("cannot read the file: {detail}"),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

async fn purge(store: &dyn Store, retention_days: i64) -> anyhow::Result<u64> {
    let today = lienhoan_domain::format::local_date(time::OffsetDateTime::now_utc());
    Ok(store
        .purge_register(&Actor::system(), purge_cutoff(today, retention_days))
        .await?)
}

/// Purges the register and compacts the statistics rollups at start and then once a day, for
/// as long as the server runs.
async fn maintain_daily(store: std::sync::Arc<dyn Store>, retention_days: i64) {
    let mut every_day = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
    loop {
        every_day.tick().await;
        match purge(store.as_ref(), retention_days).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "expired register records purged"),
            Err(e) => tracing::error!(error = %e, "register purge failed"),
        }
        if let Err(e) = store.compact_statistics(&Actor::system()).await {
            tracing::error!(error = %e, "compacting the statistics rollups failed");
        }
    }
}

async fn verify_audit(store: &dyn Store) -> anyhow::Result<ExitCode> {
    let bar = ProgressBar::new_spinner();
    bar.set_message("Kiểm tra nhật ký / verifying the audit log");
    let result = store
        .verify_audit(&|n| bar.set_message(format!("{n} entries checked")))
        .await?;
    bar.finish_and_clear();
    match result {
        Ok(n) => {
            println!("audit log intact: {n} entries verified");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("audit log BROKEN: {broken}");
            Ok(ExitCode::from(2))
        }
    }
}
