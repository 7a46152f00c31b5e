//! What the same machine does without us: the product's own `incidents` table (same columns,
//! generated ones included, and the indexes the product's database has after its migrations;
//! foreign keys left out) written directly with rusqlite or tokio-postgres.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::SinkExt;
use lienhoan_domain::format::local_date;
use lienhoan_domain::incident::IncidentInput;
use lienhoan_domain::text::fold;
use lienhoan_store_sql::engine::{date_text, instant_text};
use uuid::Uuid;

const SCHEMA: &str = include_str!("../../crates/store-sql/schema/0002_incidents.sql");

/// The product's incidents table, rendered for one engine, with `indexes` (read from the
/// product's database by [`sqlite_indexes`], or by [`pg_table_additions`] with the generated
/// columns).
fn incidents_ddl(postgres: bool, indexes: &[String]) -> String {
    let start = SCHEMA
        .find("CREATE TABLE incidents")
        .expect("incidents table");
    let end = start + SCHEMA[start..].find(");").expect("end of the table") + 1;
    let (uuid, date, instant, boolean, bigint) = if postgres {
        ("UUID", "DATE", "TIMESTAMPTZ", "BOOLEAN", "BIGINT")
    } else {
        ("TEXT", "TEXT", "TEXT", "INTEGER", "INTEGER")
    };
    let table = SCHEMA[start..end]
        .replace(" REFERENCES organisations (id)", "")
        .replace(" REFERENCES admin_units (id)", "")
        .replace("{uuid}", uuid)
        .replace("{date}", date)
        .replace("{instant}", instant)
        .replace("{bool}", boolean)
        .replace("{bigint}", bigint);
    let mut ddl = table;
    for index in indexes {
        ddl.push_str(";\n");
        ddl.push_str(index);
    }
    ddl
}

/// The secondary indexes on incidents in the product's SQLite database.
pub fn sqlite_indexes(product: &Path) -> anyhow::Result<Vec<String>> {
    let conn = rusqlite::Connection::open(product)?;
    let mut stmt = conn.prepare(
        "SELECT sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name = 'incidents' AND sql IS NOT NULL ORDER BY name",
    )?;
    let indexes = stmt
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(indexes)
}

/// What the product's PostgreSQL database adds to the incidents table of migration 0002: its
/// generated columns (statements that add them), then its secondary indexes.
pub async fn pg_table_additions(product: &tokio_postgres::Client) -> anyhow::Result<Vec<String>> {
    let rows = product
        .query(
            "SELECT format('ALTER TABLE incidents ADD COLUMN %I %s GENERATED ALWAYS AS (%s) STORED',
                    a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid))
             FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = 'incidents'::regclass AND a.attgenerated = 's'
             ORDER BY a.attnum",
            &[],
        )
        .await?;
    let mut additions: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let rows = product
        .query(
            "SELECT indexdef FROM pg_indexes
             WHERE tablename = 'incidents' AND indexname <> 'incidents_pkey' ORDER BY indexname",
            &[],
        )
        .await?;
    additions.extend(rows.iter().map(|r| r.get::<_, String>(0)));
    Ok(additions)
}

const INSERT: &str = "INSERT INTO incidents (organisation_id, commune_id, place, latitude_e6,
    longitude_e6, occurred_at, occurred_on, reported_at, category, suspects, victims, deaths,
    injured, damage_vnd, narrative, status, outcome, outcome_people, cross_border, shared,
    search_text, created_at, updated_at, id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
    $19, $20, $21, $22, $23, $24)";

/// One row as the product writes it.
pub struct RawRow {
    id: Uuid,
    organisation_id: Uuid,
    input: IncidentInput,
    search_text: String,
    at: time::OffsetDateTime,
}

impl RawRow {
    pub fn new(organisation_id: Uuid, input: IncidentInput) -> Self {
        let at = lienhoan_domain::audit::storable_instant(time::OffsetDateTime::now_utc());
        Self {
            id: Uuid::now_v7(),
            organisation_id,
            search_text: fold(&format!("{}\n{}", input.place, input.narrative)),
            input,
            at,
        }
    }
}

pub fn sqlite_open(path: &Path, indexes: &[String]) -> anyhow::Result<rusqlite::Connection> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = rusqlite::Connection::open(path)?;
    // The product's settings: WAL, every commit synced.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    conn.execute_batch(&incidents_ddl(false, indexes))?;
    Ok(conn)
}

fn sqlite_insert(stmt: &mut rusqlite::Statement<'_>, r: &RawRow) -> rusqlite::Result<usize> {
    let i = &r.input;
    stmt.execute(rusqlite::params![
        r.organisation_id.to_string(),
        i.commune_id.to_string(),
        i.place,
        Option::<i64>::None,
        Option::<i64>::None,
        instant_text(i.occurred_at),
        date_text(local_date(i.occurred_at)),
        instant_text(i.reported_at),
        i.category,
        i.suspects,
        i.victims,
        i.deaths,
        i.injured,
        i.damage_vnd,
        i.narrative,
        i.status.as_str(),
        i.outcome.as_str(),
        i.outcome_people,
        i.cross_border,
        i.cross_border,
        r.search_text,
        instant_text(r.at),
        instant_text(r.at),
        r.id.to_string(),
    ])
}

/// All rows in one transaction; returns the seconds spent.
pub fn sqlite_bulk(
    conn: &mut rusqlite::Connection,
    batches: impl Iterator<Item = Vec<RawRow>>,
) -> anyhow::Result<(u64, f64)> {
    let start = Instant::now();
    let tx = conn.transaction()?;
    let mut rows = 0;
    {
        let mut stmt = tx.prepare(&INSERT.replace('$', "?"))?;
        for batch in batches {
            for r in &batch {
                sqlite_insert(&mut stmt, r)?;
                rows += 1;
            }
        }
    }
    tx.commit()?;
    Ok((rows, start.elapsed().as_secs_f64()))
}

/// One transaction per row (autocommit), until `max_rows` or `max_time`.
pub fn sqlite_single(
    conn: &mut rusqlite::Connection,
    rows: impl Iterator<Item = RawRow>,
    max_rows: u64,
    max_time: Duration,
) -> anyhow::Result<(u64, f64)> {
    let start = Instant::now();
    let mut stmt = conn.prepare(&INSERT.replace('$', "?"))?;
    let mut n = 0;
    for r in rows {
        if n >= max_rows || start.elapsed() > max_time {
            break;
        }
        sqlite_insert(&mut stmt, &r)?;
        n += 1;
    }
    Ok((n, start.elapsed().as_secs_f64()))
}

pub async fn pg_connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

pub async fn pg_prepare(client: &tokio_postgres::Client, indexes: &[String]) -> anyhow::Result<()> {
    client
        .batch_execute("DROP TABLE IF EXISTS incidents")
        .await?;
    client.batch_execute(&incidents_ddl(true, indexes)).await?;
    Ok(())
}

/// COPY in text format, escaping what the format needs escaped.
fn copy_text(out: &mut Vec<u8>, value: &str) {
    for b in value.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(b),
        }
    }
}

fn copy_row(out: &mut Vec<u8>, r: &RawRow) {
    let i = &r.input;
    let fields: [String; 24] = [
        r.organisation_id.to_string(),
        i.commune_id.to_string(),
        i.place.clone(),
        "\\N".into(),
        "\\N".into(),
        instant_text(i.occurred_at),
        date_text(local_date(i.occurred_at)),
        instant_text(i.reported_at),
        i.category.clone(),
        i.suspects.to_string(),
        i.victims.to_string(),
        i.deaths.to_string(),
        i.injured.to_string(),
        i.damage_vnd.to_string(),
        i.narrative.clone(),
        i.status.as_str().into(),
        i.outcome.as_str().into(),
        i.outcome_people.to_string(),
        i.cross_border.to_string(),
        i.cross_border.to_string(),
        r.search_text.clone(),
        instant_text(r.at),
        instant_text(r.at),
        r.id.to_string(),
    ];
    for (k, f) in fields.iter().enumerate() {
        if k > 0 {
            out.push(b'\t');
        }
        if f == "\\N" {
            out.extend_from_slice(b"\\N");
        } else {
            copy_text(out, f);
        }
    }
    out.push(b'\n');
}

/// The fastest bulk path PostgreSQL has: one COPY of every row.
pub async fn pg_bulk(
    client: &tokio_postgres::Client,
    batches: impl Iterator<Item = Vec<RawRow>>,
) -> anyhow::Result<(u64, f64)> {
    let start = Instant::now();
    let sink = client
        .copy_in::<_, bytes::Bytes>(
            "COPY incidents (organisation_id, commune_id, place, latitude_e6, longitude_e6,
            occurred_at, occurred_on, reported_at, category, suspects, victims, deaths, injured,
            damage_vnd, narrative, status, outcome, outcome_people, cross_border, shared,
            search_text, created_at, updated_at, id) FROM STDIN",
        )
        .await?;
    futures::pin_mut!(sink);
    let mut rows = 0;
    for batch in batches {
        let mut buf = Vec::with_capacity(batch.len() * 400);
        for r in &batch {
            copy_row(&mut buf, r);
        }
        rows += batch.len() as u64;
        sink.send(bytes::Bytes::from(buf)).await?;
    }
    sink.as_mut().finish().await?;
    Ok((rows, start.elapsed().as_secs_f64()))
}

/// One INSERT per row, each its own transaction, from one connection.
pub async fn pg_single(
    client: &tokio_postgres::Client,
    rows: impl Iterator<Item = RawRow>,
    max_rows: u64,
    max_time: Duration,
) -> anyhow::Result<(u64, f64)> {
    let stmt = client.prepare(INSERT).await?;
    let start = Instant::now();
    let mut n = 0;
    for r in rows {
        if n >= max_rows || start.elapsed() > max_time {
            break;
        }
        let i = &r.input;
        let day = local_date(i.occurred_at);
        client
            .execute(
                &stmt,
                &[
                    &r.organisation_id,
                    &i.commune_id,
                    &i.place,
                    &Option::<i64>::None,
                    &Option::<i64>::None,
                    &i.occurred_at,
                    &day,
                    &i.reported_at,
                    &i.category,
                    &i.suspects,
                    &i.victims,
                    &i.deaths,
                    &i.injured,
                    &i.damage_vnd,
                    &i.narrative,
                    &i.status.as_str(),
                    &i.outcome.as_str(),
                    &i.outcome_people,
                    &i.cross_border,
                    &i.cross_border,
                    &r.search_text,
                    &r.at,
                    &r.at,
                    &r.id,
                ],
            )
            .await?;
        n += 1;
    }
    Ok((n, start.elapsed().as_secs_f64()))
}
