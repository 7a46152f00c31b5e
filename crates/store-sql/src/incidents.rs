//! Incidents, with the statistics counters updated in the same transaction as every change.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use lienhoan_domain::access::Actor;
use lienhoan_domain::cluster::{Span, union_of_spans};
use lienhoan_domain::format::{local_date, start_of_day};
use lienhoan_domain::incident::{Incident, IncidentInput, Outcome, Status};
use lienhoan_domain::text::fold;
use lienhoan_domain::validation::FieldError;
use lienhoan_store::{
    AuditView, IncidentQuery, IncidentStore, IncidentView, LiveEvent, Page, Progress, StoreError,
    StoreResult,
};
use serde_json::json;
use time::Date;
use uuid::Uuid;

use crate::audit::{Change, record};
use crate::clusters::span;
use crate::counters::{CounterChanges, PROVINCE_OF_COMMUNE};
use crate::engine::{Engine, EngineError, OnConflict, Reader, Row, Tx, Value, instant_text};
use crate::events::{cluster_neighbours, publish};
use crate::names::Named;
use crate::{
    Condition, Conditions, Counted, ListSql, PageJoins, SqlStore, contains_pattern,
    insert_retrying, now, page_bounds, paged, params, require, scope_param,
};

const COLUMNS: &str =
    "i.id, i.organisation_id, i.commune_id, i.place, i.latitude_e6, i.longitude_e6,
    i.occurred_at, i.reported_at, i.category, i.suspects, i.victims, i.deaths, i.injured,
    i.damage_vnd, i.narrative, i.status, i.outcome, i.outcome_people, i.cross_border, i.shared,
    i.created_at, i.updated_at";

/// A part of what a scoped viewer may see, read on its own from the organisation index: all
/// of its own incidents, or the shared incidents of an organisation it was in a cluster with,
/// from the days they were members together.
pub(crate) struct VisiblePart {
    organisation_id: Uuid,
    shared_within: Option<Span>,
}

impl VisiblePart {
    fn conditions(&self) -> Vec<Condition> {
        let mut all = vec![("i.organisation_id = $$", Some(self.organisation_id.into()))];
        if let Some(span) = self.shared_within {
            // Written out, not bound, so that both engines read the partial index of shared
            // incidents.
            all.push(("i.shared", None));
            all.push((
                "i.occurred_at >= $$",
                Some(start_of_day(span.joined_on).into()),
            ));
            if let Some(left) = span.left_on {
                all.push(("i.occurred_at < $$", Some(start_of_day(left).into())));
            }
        }
        all
    }
}

/// One read of a viewer's list: the incidents `filter` keeps, for each row of `each_of` when
/// it is given.
#[derive(Clone)]
struct PartRead {
    each_of: Option<String>,
    filter: String,
    /// Whether it reads the viewer's own organisation's incidents.
    own: bool,
}

/// How each part of a [`compound`] read ends its rows.
enum PartEnd<'a> {
    /// Every part, with this clause.
    Always(&'a str),
    /// Only a part read for each element of arrays; the others are plain selects, which the
    /// compound's own order and limit read lazily where the engine merges ordered parts
    /// ([`crate::engine::Engine::merges_ordered_parts`]).
    Lazy(&'a str),
}

/// `reads` as one compound select of `columns`, called `i`, ending with `whole`.
fn compound(reads: &[PartRead], columns: &str, end: PartEnd, whole: &str) -> String {
    let selects: Vec<String> = reads
        .iter()
        .enumerate()
        .map(|(n, read)| {
            let rows = format!("SELECT {columns} FROM incidents i {}", read.filter);
            match (&read.each_of, &end) {
                (None, PartEnd::Lazy(_)) => rows,
                (None, PartEnd::Always(each)) => format!("SELECT * FROM ({rows} {each}) part{n}"),
                (Some(each_of), PartEnd::Always(each) | PartEnd::Lazy(each)) => format!(
                    "SELECT part{n}.* FROM {each_of} CROSS JOIN LATERAL ({rows} {each}) part{n}"
                ),
            }
        })
        .collect();
    format!("FROM ({} {whole}) i", selects.join(" UNION ALL "))
}

/// `reads` for a page of the `rows` newest, where the shared parts are read for each element of
/// arrays: a shared incident older than the viewer's own `rows`-th newest cannot be on the
/// page, since the own part alone has that many newer ones, so each shared part stops there.
/// Officer 00's shared parts at 10M read 1,127 index entries for a page of 50 without the
/// bound. The bound is one read, made once for the statement.
fn bounded_by_own(reads: &[PartRead], rows: i64) -> Vec<PartRead> {
    let Some(own) = reads.iter().find(|r| r.own) else {
        return reads.to_vec();
    };
    let bound = format!(
        "i.occurred_at >= COALESCE((SELECT i.occurred_at FROM incidents i {}
            ORDER BY {NEWEST_FIRST} LIMIT 1 OFFSET {}), '-infinity')",
        own.filter,
        rows - 1
    );
    reads
        .iter()
        .map(|read| match read.each_of {
            Some(_) => PartRead {
                filter: format!("{} AND {bound}", read.filter),
                ..read.clone()
            },
            None => read.clone(),
        })
        .collect()
}

/// The reads that make up a viewer's list, and their parameters. By default a read per part.
/// Where the engine joins arrays laterally, the shared parts are one read, for each part passed
/// in arrays, so that the statement's text depends on the filters and not on who views:
/// PostgreSQL plans a statement for its values on its first executions on each connection,
/// and a text that named some 30 parts took longer to plan than to run. The shared read's
/// conditions are those of [`VisiblePart::conditions`], read from the arrays.
fn part_reads(
    parts: &[VisiblePart],
    query: &IncidentQuery,
    engine: &dyn Engine,
) -> (Vec<PartRead>, Vec<Value>) {
    let laterally = engine.joins_arrays_laterally();
    let searched_text = engine.type_names().searched_text;
    let (mut reads, mut args) = (Vec::new(), Vec::new());
    let mut read = |conditions: Vec<Condition>, arrays: Option<[String; 3]>, own: bool| {
        let mut c = Conditions::after(args.len());
        let each_of = arrays.map(|[organisations, from, until]| {
            format!(
                "unnest(CAST({} AS uuid[]), CAST({} AS timestamptz[]), CAST({} AS timestamptz[]))
                 AS shared_part(organisation_id, shared_from, shared_until)",
                c.bind("$$", organisations.into()),
                c.bind("$$", from.into()),
                c.bind("$$", until.into()),
            )
        });
        c.add_all(conditions);
        add_filters(&mut c, query, searched_text);
        let (filter, read_args) = c.into_where();
        reads.push(PartRead {
            each_of,
            filter,
            own,
        });
        args.extend(read_args);
    };
    let (shared, own): (Vec<&VisiblePart>, Vec<&VisiblePart>) =
        parts.iter().partition(|p| p.shared_within.is_some());
    let each_part = if laterally {
        own
    } else {
        parts.iter().collect()
    };
    for part in each_part {
        read(part.conditions(), None, part.shared_within.is_none());
    }
    if laterally && !shared.is_empty() {
        let instant = |day: Option<Date>| {
            day.map_or("infinity".to_owned(), |d| {
                format!("\"{}\"", instant_text(start_of_day(d)))
            })
        };
        let (mut organisations, mut from, mut until) = (Vec::new(), Vec::new(), Vec::new());
        for (part, span) in shared.iter().filter_map(|p| Some((p, p.shared_within?))) {
            organisations.push(part.organisation_id.to_string());
            from.push(instant(Some(span.joined_on)));
            until.push(instant(span.left_on));
        }
        let array = |items: Vec<String>| format!("{{{}}}", items.join(","));
        read(
            vec![
                ("i.organisation_id = shared_part.organisation_id", None),
                // Written out, so that the partial index of shared incidents serves.
                ("i.shared", None),
                ("i.occurred_at >= shared_part.shared_from", None),
                ("i.occurred_at < shared_part.shared_until", None),
            ],
            Some([array(organisations), array(from), array(until)]),
            false,
        );
    }
    (reads, args)
}

/// What the viewer's organisation may see, part by part. The spans come
/// from the viewer's memberships (a few rows), so that every part is a range of the
/// organisation index instead of a membership lookup for every incident.
async fn visible_parts(
    mut reader: Reader<'_>,
    viewer: Uuid,
) -> Result<Vec<VisiblePart>, EngineError> {
    let rows = reader
        .query(
            "SELECT co.organisation_id, co.joined_on, co.left_on,
                me.joined_on AS my_joined_on, me.left_on AS my_left_on
             FROM cluster_memberships co
             JOIN cluster_memberships me ON me.cluster_id = co.cluster_id
             WHERE me.organisation_id = $1 AND co.organisation_id <> $1",
            params![viewer],
        )
        .await?;
    let mut together: BTreeMap<Uuid, Vec<Span>> = BTreeMap::new();
    for row in &rows {
        let theirs = crate::clusters::span(row)?;
        let mine = Span {
            joined_on: row.date("my_joined_on")?,
            left_on: row.opt_date("my_left_on")?,
        };
        if let Some(span) = theirs.intersection(&mine) {
            together
                .entry(row.uuid("organisation_id")?)
                .or_default()
                .push(span);
        }
    }
    let own = VisiblePart {
        organisation_id: viewer,
        shared_within: None,
    };
    let shared = together.into_iter().flat_map(|(organisation_id, spans)| {
        union_of_spans(spans)
            .into_iter()
            .map(move |span| VisiblePart {
                organisation_id,
                shared_within: Some(span),
            })
    });
    Ok(std::iter::once(own).chain(shared).collect())
}

fn micro(degrees: Option<f64>) -> Option<i64> {
    degrees.map(|d| (d * 1_000_000.0).round() as i64)
}

fn degrees(micro: Option<i64>) -> Option<f64> {
    micro.map(|m| m as f64 / 1_000_000.0)
}

fn parse<T>(column: &str, text: String, parse: fn(&str) -> Option<T>) -> Result<T, EngineError> {
    parse(&text).ok_or_else(|| EngineError::Other(format!("{column}: unknown value {text}")))
}

/// An incident as its row holds it, before the names it is shown with
/// ([`SqlStore::with_names`]).
struct Stored {
    incident: Incident,
    shared: bool,
}

fn stored(row: &Row) -> Result<Stored, EngineError> {
    let input = IncidentInput {
        commune_id: row.uuid("commune_id")?,
        place: row.text("place")?,
        latitude: degrees(row.opt_int("latitude_e6")?),
        longitude: degrees(row.opt_int("longitude_e6")?),
        occurred_at: row.instant("occurred_at")?,
        reported_at: row.instant("reported_at")?,
        category: row.text("category")?,
        suspects: row.int("suspects")?,
        victims: row.int("victims")?,
        deaths: row.int("deaths")?,
        injured: row.int("injured")?,
        damage_vnd: row.int("damage_vnd")?,
        narrative: row.text("narrative")?,
        status: parse("status", row.text("status")?, Status::parse)?,
        outcome: parse("outcome", row.text("outcome")?, Outcome::parse)?,
        outcome_people: row.int("outcome_people")?,
        cross_border: row.bool("cross_border")?,
        shared: None,
    };
    Ok(Stored {
        shared: row.bool("shared")?,
        incident: Incident {
            id: row.uuid("id")?,
            organisation_id: row.uuid("organisation_id")?,
            input,
            created_at: row.instant("created_at")?,
            updated_at: row.instant("updated_at")?,
        },
    })
}

impl SqlStore {
    /// A page of the incidents `actor` may see that `query` keeps, without their names.
    async fn stored_page(&self, actor: &Actor, query: &IncidentQuery) -> StoreResult<Page<Stored>> {
        let (limit, offset) = page_bounds(query.limit, query.offset);
        // The viewer's parts, remembered for a moment, and then the page's rows in one
        // statement (their names come after, see `with_names`): a membership that changed
        // since changes the page as it would have a moment later.
        let engine = self.engine_ref();
        let row_key = engine.type_names().row_key;
        let joins = page_joins(row_key);
        let cap = count_cap(query);
        let Some(parts) = self.remembered_parts(actor).await? else {
            let mut c = Conditions::default();
            // Read from the index of all incidents, which carries no text: the row is at hand.
            add_filters(&mut c, query, "i.search_text");
            let (filter, args) = c.into_where();
            let key = format!("i.{row_key} AS row_key");
            return paged(
                Reader::Once(engine),
                list_sql("FROM incidents i", &key, &joins, &filter, cap),
                args,
                (limit, offset),
                stored,
            )
            .await;
        };
        let (reads, mut args) = part_reads(&parts, query, engine);
        // Each part reads from the organisation index only as many rows as the page or the
        // capped count can need, so a page costs the same however many incidents the viewer
        // and its neighbours have: the page its newest rows, the count any rows.
        let page = format!("LIMIT {}", offset + limit);
        let part_page = format!("ORDER BY {NEWEST_FIRST} {page}");
        let from = compound(
            &bounded_by_own(&reads, offset + limit),
            &format!("i.occurred_at, i.id, i.{row_key} AS row_key"),
            if engine.merges_ordered_parts() {
                PartEnd::Lazy(&part_page)
            } else {
                PartEnd::Always(&part_page)
            },
            &format!("ORDER BY {NEWEST_FIRST_OF_COMPOUND} {page}"),
        );
        // Without filters the viewer sees all of its own incidents, which its organisation's
        // totals row counts; only the neighbours' shared ones are counted.
        let own_total = match parts.iter().find(|p| p.shared_within.is_none()) {
            Some(own) if !has_filters(query) => {
                args.push(own.organisation_id.into());
                Some(format!(
                    "(SELECT t.incidents FROM incident_totals t WHERE t.organisation_id = ${})",
                    args.len()
                ))
            }
            _ => None,
        };
        let counted_reads: Vec<PartRead> = reads
            .iter()
            .filter(|r| own_total.is_none() || !r.own)
            .cloned()
            .collect();
        let each = format!("LIMIT {}", offset + cap + 1);
        let rows = (!counted_reads.is_empty())
            .then(|| compound(&counted_reads, "i.id", PartEnd::Always(&each), ""));
        let counted = match own_total.as_deref() {
            Some(total) => Counted::Apart {
                total,
                rest: rows.as_deref(),
            },
            None => rows.as_deref().map_or(Counted::Shown, Counted::Rows),
        };
        let sql = ListSql {
            counted,
            ..list_sql(&from, "i.row_key", &joins, "", cap)
        };
        paged(Reader::Once(engine), sql, args, (limit, offset), stored).await
    }

    /// Views of `stored` incidents, named from memory where the names were read a moment ago.
    async fn with_names(&self, stored: Vec<Stored>) -> Result<Vec<IncidentView>, EngineError> {
        let organisations = self
            .names(
                Named::Organisation,
                stored.iter().map(|s| s.incident.organisation_id),
            )
            .await?;
        let communes = self
            .names(
                Named::AdminUnit,
                stored.iter().map(|s| s.incident.input.commune_id),
            )
            .await?;
        stored
            .into_iter()
            .map(|Stored { incident, shared }| {
                Ok(IncidentView {
                    organisation_name: organisations.of(incident.organisation_id)?,
                    commune_name: communes.of(incident.input.commune_id)?,
                    incident,
                    shared,
                })
            })
            .collect()
    }

    /// What the actor may see, as [`visible_parts`] read it at most [`crate::MEMO_FOR`] ago;
    /// `None` for those who see everything. A list's rows are then one statement.
    async fn remembered_parts(
        &self,
        actor: &Actor,
    ) -> Result<Option<Arc<[VisiblePart]>>, EngineError> {
        let Some(viewer) = scope_param(actor.cluster_scope()) else {
            return Ok(None);
        };
        let read = async {
            let parts = visible_parts(Reader::Once(self.engine_ref()), viewer).await?;
            Ok(Some(parts.into()))
        };
        self.visible_parts
            .recall_or_read(viewer, |_| true, read)
            .await
    }
}

/// The communes in an organisation's own area (its unit or a unit under it) and their
/// provinces; `$1` is the organisation. The area is named level by level, each on an index,
/// rather than with an `OR` across columns that would make the engine read the whole map.
const AREA: &str = "FROM admin_units c
    LEFT JOIN admin_units p ON p.id = c.parent_id
    LEFT JOIN admin_units g ON g.id = p.parent_id
    WHERE c.level = 'commune' AND c.id IN (
        SELECT o.admin_unit_id FROM organisations o WHERE o.id = $1
        UNION SELECT u.id FROM organisations o
            JOIN admin_units u ON u.parent_id = o.admin_unit_id WHERE o.id = $1
        UNION SELECT u.id FROM organisations o
            JOIN admin_units d ON d.parent_id = o.admin_unit_id
            JOIN admin_units u ON u.parent_id = d.id WHERE o.id = $1)";

/// Reads whether a commune (`$2`) is in an organisation's (`$1`) area, with its province and
/// the organisation's cluster memberships, for the counters. One statement reads both: on
/// PostgreSQL each is a round trip of a write that holds the audit chain's head.
fn commune_check() -> String {
    format!(
        "SELECT area.province_id, m.cluster_id, m.joined_on, m.left_on
         FROM (SELECT {PROVINCE_OF_COMMUNE} {AREA} AND c.id = $2) area
         LEFT JOIN cluster_memberships m ON m.organisation_id = $1"
    )
}

/// The commune must be in the organisation's area (`rows` of [`commune_check`]); its
/// province and the organisation's memberships are noted for the counters.
fn note_commune(
    rows: &[Row],
    organisation_id: Uuid,
    commune_id: Uuid,
    counters: &mut CounterChanges,
) -> StoreResult<()> {
    let Some(row) = rows.first() else {
        return Err(StoreError::invalid(
            "commune_id",
            "error-commune-outside-area",
        ));
    };
    counters.locate(commune_id, row.uuid("province_id")?);
    let mut memberships = Vec::new();
    for row in rows {
        if let Some(cluster) = row.opt_uuid("cluster_id")? {
            memberships.push((cluster, span(row)?));
        }
    }
    counters.know_memberships(organisation_id, memberships);
    Ok(())
}

async fn check_commune(
    tx: &mut dyn Tx,
    organisation_id: Uuid,
    commune_id: Uuid,
    counters: &mut CounterChanges,
) -> StoreResult<()> {
    let rows = tx
        .query(&commune_check(), params![organisation_id, commune_id])
        .await?;
    note_commune(&rows, organisation_id, commune_id, counters)
}

async fn fetch(tx: &mut dyn Tx, actor: &Actor, id: Uuid) -> StoreResult<Stored> {
    let mut conditions = Conditions::default();
    conditions.add("i.id = $$", id);
    if let Some(viewer) = scope_param(actor.cluster_scope()) {
        let parts = visible_parts(Reader::In(&mut *tx), viewer).await?;
        conditions.add_any(parts.iter().map(VisiblePart::conditions));
    }
    let (filter, args) = conditions.into_where();
    let rows = tx
        .query(&format!("SELECT {COLUMNS} FROM incidents i {filter}"), args)
        .await?;
    Ok(stored(rows.first().ok_or(StoreError::NotFound)?)?)
}

/// The columns of an incident row, in the order of [`row_values`].
const ROW_COLUMNS: [&str; 24] = [
    "organisation_id",
    "commune_id",
    "place",
    "latitude_e6",
    "longitude_e6",
    "occurred_at",
    "occurred_on",
    "reported_at",
    "category",
    "suspects",
    "victims",
    "deaths",
    "injured",
    "damage_vnd",
    "narrative",
    "status",
    "outcome",
    "outcome_people",
    "cross_border",
    "shared",
    "search_text",
    "created_at",
    "updated_at",
    "id",
];

fn row_values(incident: &Incident, shared: bool) -> Vec<Value> {
    let i = &incident.input;
    params![
        incident.organisation_id,
        i.commune_id,
        i.place.as_str(),
        micro(i.latitude),
        micro(i.longitude),
        i.occurred_at,
        local_date(i.occurred_at),
        i.reported_at,
        i.category.as_str(),
        i.suspects,
        i.victims,
        i.deaths,
        i.injured,
        i.damage_vnd,
        i.narrative.as_str(),
        i.status.as_str(),
        i.outcome.as_str(),
        i.outcome_people,
        i.cross_border,
        shared,
        fold(&format!("{}\n{}", i.place, i.narrative)),
        incident.created_at,
        incident.updated_at,
        incident.id
    ]
}

/// Inserts incident rows, `(incident, shared)`, reporting progress after each chunk.
async fn insert_rows(
    tx: &mut dyn Tx,
    incidents: &[(Incident, bool)],
    progress: Progress<'_>,
) -> Result<(), EngineError> {
    let rows = incidents
        .iter()
        .map(|(incident, shared)| row_values(incident, *shared))
        .collect();
    tx.insert_many(
        "incidents",
        &ROW_COLUMNS,
        OnConflict::Refuse,
        rows,
        &mut |n| progress(n as u64),
    )
    .await
}

async fn update_row(tx: &mut dyn Tx, incident: &Incident, shared: bool) -> Result<(), EngineError> {
    let (id, assignments) = ROW_COLUMNS.split_last().expect("the id is the last column");
    let assignments: Vec<String> = assignments
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    tx.execute(
        &format!(
            "UPDATE incidents SET {} WHERE {id} = ${}",
            assignments.join(", "),
            ROW_COLUMNS.len()
        ),
        row_values(incident, shared),
    )
    .await?;
    Ok(())
}

fn normalised(input: &IncidentInput) -> IncidentInput {
    IncidentInput {
        place: input.place.trim().to_owned(),
        latitude: degrees(micro(input.latitude)),
        longitude: degrees(micro(input.longitude)),
        occurred_at: lienhoan_domain::audit::storable_instant(input.occurred_at),
        reported_at: lienhoan_domain::audit::storable_instant(input.reported_at),
        shared: None,
        ..input.clone()
    }
}

/// The order of every incident list, which the organisation index also has.
const NEWEST_FIRST: &str = "i.occurred_at DESC, i.id";
/// The same order over a compound select's own columns, which take no table name.
const NEWEST_FIRST_OF_COMPOUND: &str = "occurred_at DESC, id";

/// How a list page finds its incidents again from the keys it chose (see
/// [`crate::engine::TypeNames::row_key`]).
fn page_joins(row_key: &str) -> String {
    format!("JOIN incidents i ON i.{row_key} = chosen.row_key")
}

/// An incident list over the rows of `from`, newest first, whose rows `key` selects as
/// `row_key`, and which `joins` finds again.
fn list_sql<'a>(
    from: &'a str,
    key: &'a str,
    joins: &'a str,
    filter: &'a str,
    count_cap: i64,
) -> ListSql<'a> {
    ListSql {
        columns: COLUMNS,
        from,
        counted: Counted::Shown,
        count_cap,
        joins: Some(PageJoins { key, sql: joins }),
        filter,
        order_by: NEWEST_FIRST,
    }
}

/// How far a list of what `query` keeps counts past its page's start: less far for a search
/// of words, whose every match counted is a text tested.
fn count_cap(query: &IncidentQuery) -> i64 {
    match words_pattern(query) {
        Some(_) => lienhoan_store::SEARCH_COUNT_CAP,
        None => lienhoan_store::COUNT_CAP,
    }
}

/// The pattern a search for `query`'s words matches folded text with; none for no words.
fn words_pattern(query: &IncidentQuery) -> Option<String> {
    query.text.as_deref().and_then(contains_pattern)
}

/// Whether `query` keeps fewer incidents than the viewer may see.
fn has_filters(query: &IncidentQuery) -> bool {
    let mut c = Conditions::default();
    add_filters(&mut c, query, "i.search_text");
    !c.is_empty()
}

/// The list filters of `query`.
fn add_filters(c: &mut Conditions, query: &IncidentQuery, searched_text: &str) {
    // Days as instants, so the range is read from the occurred_at indexes that also give the
    // order.
    c.add_some("i.occurred_at >= $$", query.from.map(start_of_day));
    c.add_some(
        "i.occurred_at < $$",
        query.to.and_then(|d| d.next_day()).map(start_of_day),
    );
    c.add_some("i.organisation_id = $$", query.organisation_id);
    c.add_some(
        "EXISTS (SELECT 1 FROM cluster_memberships cm
            WHERE cm.cluster_id = $$ AND cm.organisation_id = i.organisation_id
              AND cm.joined_on <= i.occurred_on
              AND (cm.left_on IS NULL OR cm.left_on > i.occurred_on))",
        query.cluster_id,
    );
    c.add_some(
        "(i.category = $$ OR substr(i.category, 1, length($$) + 1) = $$ || '.')",
        query.category.clone(),
    );
    c.add_some("i.status = $$", query.status.map(|s| s.as_str()));
    c.add_some("i.outcome = $$", query.outcome.map(|o| o.as_str()));
    c.add_some(
        &format!("{searched_text} LIKE $$ ESCAPE '\\'"),
        words_pattern(query),
    );
}

/// Inserts of incidents, each tried once more on its own if it was rolled back with its
/// group (see [`insert_retrying`]).
impl SqlStore {
    async fn record_incident(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        input: &IncidentInput,
        alone: bool,
    ) -> StoreResult<Incident> {
        require(actor.can_write_incident(organisation_id))?;
        input.validate(now())?;
        let at = now();
        let incident = Incident {
            id: Uuid::now_v7(),
            organisation_id,
            input: normalised(input),
            created_at: at,
            updated_at: at,
        };
        let shared = input.shared.unwrap_or(input.cross_border);
        let (mut tx, checked) = self
            .engine
            .insert_after_check(&commune_check(), params![organisation_id, input.commune_id])
            .await?;
        if alone {
            tx.settle_alone();
        }
        let mut counters = CounterChanges::default();
        note_commune(&checked, organisation_id, input.commune_id, &mut counters)?;
        // The counters read the memberships first; then the record and its counter rows can
        // go together (see `Tx::insert_many`).
        counters.add(&incident, 1);
        counters.write(tx.as_mut()).await?;
        insert_rows(tx.as_mut(), &[(incident.clone(), shared)], &|_| {}).await?;
        if input.cross_border {
            let day = local_date(incident.input.occurred_at);
            let event = LiveEvent {
                kind: "incident".into(),
                recipients: cluster_neighbours(tx.as_mut(), organisation_id, day).await?,
                title: incident.input.place.clone(),
                link: format!("/incidents/{}", incident.id),
            };
            publish(tx.as_mut(), &event).await?;
        }
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.create",
                target_kind: "incident",
                target_id: Some(incident.id),
                summary: json!({"after": incident, "shared": shared}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(incident)
    }

    async fn import_once(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        inputs: &[IncidentInput],
        progress: Progress<'_>,
        alone: bool,
    ) -> StoreResult<u64> {
        require(actor.can_write_incident(organisation_id))?;
        let at = now();
        let mut errors = Vec::new();
        for (row, input) in inputs.iter().enumerate() {
            if let Err(found) = input.validate(at) {
                errors.extend(found.into_iter().map(|e| FieldError {
                    field: format!("{row}.{}", e.field),
                    ..e
                }));
            }
        }
        let (mut tx, area) = self
            .engine
            .insert_after_check(
                &format!("SELECT c.id, {PROVINCE_OF_COMMUNE} {AREA}"),
                params![organisation_id],
            )
            .await?;
        if alone {
            tx.settle_alone();
        }
        let mut counters = CounterChanges::default();
        let area: HashSet<Uuid> = area
            .iter()
            .map(|r| {
                let commune = r.uuid("id")?;
                counters.locate(commune, r.uuid("province_id")?);
                Ok(commune)
            })
            .collect::<Result<_, EngineError>>()?;
        for (row, input) in inputs.iter().enumerate() {
            if !area.contains(&input.commune_id) {
                errors.push(FieldError::new(
                    format!("{row}.commune_id"),
                    "error-commune-outside-area",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors));
        }
        let incidents: Vec<(Incident, bool)> = inputs
            .iter()
            .map(|input| {
                let incident = Incident {
                    id: Uuid::now_v7(),
                    organisation_id,
                    input: normalised(input),
                    created_at: at,
                    updated_at: at,
                };
                (incident, input.shared.unwrap_or(input.cross_border))
            })
            .collect();
        insert_rows(tx.as_mut(), &incidents, progress).await?;
        for (incident, _) in &incidents {
            counters.add(incident, 1);
        }
        counters.write(tx.as_mut()).await?;
        let days = inputs.iter().map(|i| local_date(i.occurred_at));
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.import",
                target_kind: "organisation",
                target_id: Some(organisation_id),
                summary: json!({
                    "count": inputs.len(),
                    "first_day": days.clone().min(),
                    "last_day": days.max(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        progress(inputs.len() as u64);
        Ok(inputs.len() as u64)
    }
}

#[async_trait]
impl IncidentStore for SqlStore {
    async fn create_incident(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        input: &IncidentInput,
    ) -> StoreResult<Incident> {
        insert_retrying(|alone| self.record_incident(actor, organisation_id, input, alone)).await
    }

    async fn import_incidents(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        inputs: &[IncidentInput],
        progress: Progress<'_>,
    ) -> StoreResult<u64> {
        insert_retrying(|alone| self.import_once(actor, organisation_id, inputs, progress, alone))
            .await
    }

    async fn update_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &IncidentInput,
    ) -> StoreResult<Incident> {
        input.validate(now())?;
        let mut tx = self.engine.write().await?;
        let before = fetch(tx.as_mut(), actor, id).await?;
        let owner = before.incident.organisation_id;
        require(actor.can_write_incident(owner))?;
        if !before.incident.input.status.can_move_to(input.status) {
            return Err(StoreError::Invalid(vec![
                FieldError::new("status", "error-status-transition")
                    .with("from", before.incident.input.status.as_str()),
            ]));
        }
        let mut counters = CounterChanges::default();
        check_commune(tx.as_mut(), owner, input.commune_id, &mut counters).await?;
        let after = Incident {
            input: normalised(input),
            updated_at: now(),
            ..before.incident.clone()
        };
        let shared = input.shared.unwrap_or(before.shared);
        update_row(tx.as_mut(), &after, shared).await?;
        counters.add(&before.incident, -1);
        counters.add(&after, 1);
        counters.write(tx.as_mut()).await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.update",
                target_kind: "incident",
                target_id: Some(id),
                summary: json!({"before": before.incident, "after": after, "shared": shared}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delete_incident(&self, actor: &Actor, id: Uuid, reason: &str) -> StoreResult<()> {
        lienhoan_domain::validation::required_text(
            "reason",
            reason,
            lienhoan_domain::validation::NAME_MAX,
        )
        .map_err(|e| StoreError::Invalid(vec![e]))?;
        let mut tx = self.engine.write().await?;
        let before = fetch(tx.as_mut(), actor, id).await?;
        require(actor.can_delete_incident(before.incident.organisation_id))?;
        let mut counters = CounterChanges::default();
        counters.add(&before.incident, -1);
        counters.write(tx.as_mut()).await?;
        tx.execute("DELETE FROM incidents WHERE id = $1", params![id])
            .await?;
        record(
            tx.as_mut(),
            actor,
            Change {
                action: "incident.delete",
                target_kind: "incident",
                target_id: Some(id),
                summary: json!({"before": before.incident, "reason": reason.trim()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident(&self, actor: &Actor, id: Uuid) -> StoreResult<IncidentView> {
        let mut tx = self.engine.read().await?;
        let found = fetch(tx.as_mut(), actor, id).await?;
        drop(tx);
        let mut views = self.with_names(vec![found]).await?;
        Ok(views.remove(0))
    }

    async fn incident_history(&self, actor: &Actor, id: Uuid) -> StoreResult<Vec<AuditView>> {
        let mut tx = self.engine.read().await?;
        fetch(tx.as_mut(), actor, id).await?;
        let rows = tx
            .query(
                &format!(
                    "SELECT {} FROM audit_log WHERE target_id = $1 AND target_kind = 'incident' ORDER BY seq",
                    crate::audit::COLUMNS
                ),
                params![id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(crate::audit::entry)
            .collect::<Result<_, _>>()?)
    }

    async fn list_incidents(
        &self,
        actor: &Actor,
        query: &IncidentQuery,
    ) -> StoreResult<Page<IncidentView>> {
        let page = self.stored_page(actor, query).await?;
        Ok(Page {
            items: self.with_names(page.items).await?,
            total: page.total,
            total_capped: page.total_capped,
        })
    }
}
