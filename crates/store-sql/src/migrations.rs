//! The shared schema, written once with type placeholders that each engine fills in.

use lienhoan_domain::stats::Figures;

use crate::engine::{Engine, EngineError, TypeNames};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../schema/0001_foundation.sql"),
    ),
    (2, "incidents", include_str!("../schema/0002_incidents.sql")),
    (
        3,
        "exchange and register",
        include_str!("../schema/0003_exchange_register.sql"),
    ),
    (
        4,
        "clustered counters",
        include_str!("../schema/0004_clustered_counters.sql"),
    ),
    (
        5,
        "yearly province counters",
        include_str!("../schema/0005_yearly_province_counters.sql"),
    ),
    (
        6,
        "local counter keys",
        include_str!("../schema/0006_local_counter_keys.sql"),
    ),
    (
        7,
        "cluster counters",
        include_str!("../schema/0007_cluster_counters.sql"),
    ),
    (
        8,
        "checked changes",
        include_str!("../schema/0008_checked_changes.sql"),
    ),
    (
        9,
        "searchable recent",
        include_str!("../schema/0009_searchable_recent.sql"),
    ),
    (
        10,
        "short searchable recent",
        include_str!("../schema/0010_short_searchable_recent.sql"),
    ),
    (
        11,
        "incident totals",
        include_str!("../schema/0011_incident_totals.sql"),
    ),
    (
        12,
        "reporting month counters",
        include_str!("../schema/0012_reporting_month_counters.sql"),
    ),
    (
        13,
        "no organisation monthly",
        include_str!("../schema/0013_no_organisation_monthly.sql"),
    ),
    (
        14,
        "unit yearly counters",
        include_str!("../schema/0014_unit_yearly_counters.sql"),
    ),
];

/// `{measure_columns}` declares a counter table's measures (`Figures::MEASURES`), and
/// `{measure_sums}` sums them in a `SELECT`; migrations before 0014 spell them out.
fn render(sql: &str, types: &TypeNames) -> String {
    let columns: Vec<String> = Figures::MEASURES
        .iter()
        .map(|m| format!("{m} {} NOT NULL", types.bigint))
        .collect();
    let sums: Vec<String> = Figures::MEASURES
        .iter()
        .map(|m| format!("SUM({m})"))
        .collect();
    sql.replace("{measure_columns}", &columns.join(", "))
        .replace("{measure_sums}", &sums.join(", "))
        .replace("{uuid}", types.uuid)
        .replace("{date}", types.date)
        .replace("{instant}", types.instant)
        .replace("{bool}", types.bool)
        .replace("{bytes}", types.bytes)
        .replace("{bigint}", types.bigint)
        .replace("{clustered}", types.clustered)
        .replace("{search_text_indexes}", types.search_text_indexes)
        .replace(
            "{short_search_text_indexes}",
            types.short_search_text_indexes,
        )
        .replace("{count_checked_changes}", types.count_checked_changes)
        .replace("{day_of_month}", types.day_of_month)
}

/// Applies every migration not yet applied, each in the engine's migration transaction.
/// Returns how many were applied.
pub async fn migrate(engine: &dyn Engine) -> Result<usize, EngineError> {
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        let mut tx = engine.migration().await?;
        tx.execute_script(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        )
        .await?;
        let done = tx
            .query(
                "SELECT version FROM schema_migrations WHERE version = $1",
                crate::params![*version],
            )
            .await?;
        if done.is_empty() {
            tx.execute_script(&render(sql, engine.type_names())).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                crate::params![*version, *name],
            )
            .await?;
            applied += 1;
        }
        tx.commit().await?;
    }
    // A newer binary's migrations may keep tables this one would leave stale on every write
    // (the totals of migration 0011 beside the counters), so it does not run on them.
    let newest = engine
        .read_once(
            "SELECT MAX(version) AS newest FROM schema_migrations",
            vec![],
        )
        .await?
        .first()
        .map(|row| row.opt_int("newest"))
        .transpose()?
        .flatten();
    let known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    if let Some(newest) = newest.filter(|newest| *newest > known) {
        return Err(EngineError::Other(format!(
            "the database was migrated to version {newest} by a newer lienhoan; \
             this one knows versions up to {known}"
        )));
    }
    Ok(applied)
}
