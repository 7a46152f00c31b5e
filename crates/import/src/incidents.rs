//! The incident template: its columns, reading its rows, and importing them through the store.

use std::collections::HashMap;

use lienhoan_domain::access::Actor;
use lienhoan_domain::format::{VIETNAM_OFFSET, parse_date};
use lienhoan_domain::geo::{CURRENT_DATASET, HISTORICAL_DATASET, LEGACY_DATASET, REFORM_DAY};
use lienhoan_domain::incident::{IncidentInput, Outcome, Status};
use lienhoan_store::{Progress, Store, StoreError};
use time::{OffsetDateTime, Time};
use uuid::Uuid;

use crate::CellError;
use crate::table::{self, Format};

/// Column codes in template order. Headers read "<label> [<code>]"; the code in brackets is
/// what the reader matches, so a header in either language works.
pub const COLUMNS: [&str; 15] = [
    "commune_code",
    "occurred_at",
    "reported_at",
    "category",
    "status",
    "outcome",
    "outcome_people",
    "suspects",
    "victims",
    "deaths",
    "injured",
    "damage_vnd",
    "cross_border",
    "place",
    "narrative",
];

/// The header row, labelled by `label` (a translation lookup of `import-column-<code>`).
pub fn header(label: impl Fn(&str) -> String) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|code| format!("{} [{code}]", label(code)))
        .collect()
}

pub fn example_rows() -> Vec<Vec<String>> {
    let row = |cells: [&str; 15]| cells.iter().map(|c| c.to_string()).collect();
    vec![
        row([
            "08776",
            "14/03/2019 21:30",
            "14/03/2019 22:10",
            "criminal.theft",
            "solved",
            "prosecuted",
            "2",
            "2",
            "1",
            "0",
            "0",
            "15000000",
            "có",
            "Thôn Đồng Giang",
            "Trộm cắp xe máy",
        ]),
        row([
            "08776",
            "02/04/2019 07:15",
            "",
            "traffic.accident",
            "closed",
            "none",
            "0",
            "0",
            "0",
            "0",
            "2",
            "0",
            "không",
            "Tỉnh lộ 307",
            "",
        ]),
    ]
}

pub fn template(format: Format, label: impl Fn(&str) -> String) -> Result<Vec<u8>, String> {
    let header = header(label);
    match format {
        Format::Csv => Ok(table::csv_template(&header, &example_rows())),
        Format::Xlsx => table::xlsx_template(&header, &example_rows()),
    }
}

/// A row read from the file, its commune still a code.
#[derive(Debug)]
struct ParsedRow {
    line: usize,
    commune_code: String,
    input: IncidentInput,
}

fn column_positions(header: &[String]) -> Vec<Option<usize>> {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let tagged = format!("[{code}]");
            header
                .iter()
                .position(|h| h.contains(&tagged) || h.trim() == *code)
                .or_else(|| (header.len() == COLUMNS.len()).then_some(i))
        })
        .collect()
}

fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let (day, time) = text.split_once(' ').unwrap_or((text, "00:00"));
    let date = parse_date(day)?;
    let (h, m) = time.trim().split_once(':')?;
    let time = Time::from_hms(h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?, 0).ok()?;
    Some(date.with_time(time).assume_offset(VIETNAM_OFFSET))
}

fn parse_flag(text: &str) -> Option<bool> {
    match lienhoan_domain::text::fold(text).as_str() {
        "" | "khong" | "no" | "0" | "false" => Some(false),
        "co" | "yes" | "1" | "true" | "x" => Some(true),
        _ => None,
    }
}

fn parse_rows(rows: &[Vec<String>]) -> Result<Vec<ParsedRow>, Vec<CellError>> {
    let Some((header, body)) = rows.split_first() else {
        return Err(vec![CellError::new(1, "", "error-import-empty", "")]);
    };
    let positions = column_positions(header);
    let mut errors = Vec::new();
    for (code, position) in COLUMNS.iter().zip(&positions) {
        if position.is_none() {
            errors.push(CellError::new(1, code, "error-import-missing-column", ""));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut parsed = Vec::new();
    for (index, row) in body.iter().enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = index + 2;
        let cell = |code: &str| -> String {
            let i = COLUMNS
                .iter()
                .position(|c| *c == code)
                .expect("a known column");
            positions[i]
                .and_then(|p| row.get(p))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let mut fail = |code: &str, key: &'static str| {
            errors.push(CellError::new(line, code, key, cell(code)))
        };
        let occurred_at = parse_instant(&cell("occurred_at"));
        if occurred_at.is_none() {
            fail("occurred_at", "error-import-datetime");
        }
        let reported_at = if cell("reported_at").is_empty() {
            occurred_at
        } else {
            let parsed = parse_instant(&cell("reported_at"));
            if parsed.is_none() {
                fail("reported_at", "error-import-datetime");
            }
            parsed
        };
        let status = Status::parse(&cell("status"));
        if status.is_none() {
            fail("status", "error-import-status");
        }
        let outcome = Outcome::parse(&cell("outcome"));
        if outcome.is_none() {
            fail("outcome", "error-import-outcome");
        }
        let cross_border = parse_flag(&cell("cross_border"));
        if cross_border.is_none() {
            fail("cross_border", "error-import-flag");
        }
        let mut number = |code: &str| -> i64 {
            let text = cell(code).replace(['.', ' '], "");
            if text.is_empty() {
                return 0;
            }
            text.parse().unwrap_or_else(|_| {
                errors.push(CellError::new(
                    line,
                    code,
                    "error-import-number",
                    cell(code),
                ));
                0
            })
        };
        let counts = [
            number("outcome_people"),
            number("suspects"),
            number("victims"),
            number("deaths"),
            number("injured"),
            number("damage_vnd"),
        ];
        if cell("commune_code").is_empty() {
            errors.push(CellError::new(line, "commune_code", "error-required", ""));
        }
        if let (
            Some(occurred_at),
            Some(reported_at),
            Some(status),
            Some(outcome),
            Some(cross_border),
        ) = (occurred_at, reported_at, status, outcome, cross_border)
        {
            parsed.push(ParsedRow {
                line,
                commune_code: cell("commune_code"),
                input: IncidentInput {
                    commune_id: Uuid::nil(),
                    place: cell("place"),
                    latitude: None,
                    longitude: None,
                    occurred_at,
                    reported_at,
                    category: cell("category"),
                    suspects: counts[1],
                    victims: counts[2],
                    deaths: counts[3],
                    injured: counts[4],
                    damage_vnd: counts[5],
                    narrative: cell("narrative"),
                    status,
                    outcome,
                    outcome_people: counts[0],
                    cross_border,
                    shared: None,
                },
            });
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read as a table.
    Unreadable(String),
    Cells(Vec<CellError>),
    Store(StoreError),
}

/// A commune code names a unit of the map in force on the day: the 2024 list before the
/// reform, the 2025 list after, a historical unit otherwise.
async fn commune_id(
    store: &dyn Store,
    cache: &mut HashMap<(String, bool), Option<Uuid>>,
    code: &str,
    after_reform: bool,
) -> Result<Option<Uuid>, StoreError> {
    let key = (code.to_owned(), after_reform);
    if let Some(found) = cache.get(&key) {
        return Ok(*found);
    }
    let first = if after_reform {
        CURRENT_DATASET
    } else {
        LEGACY_DATASET
    };
    let mut found = None;
    for dataset in [first, HISTORICAL_DATASET] {
        match store.admin_unit_by_code(dataset, code).await {
            Ok(unit) => {
                found = Some(unit.id);
                break;
            }
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    cache.insert(key, found);
    Ok(found)
}

/// Reads a template file and records every row for `organisation_id`, or nothing.
pub async fn import(
    store: &dyn Store,
    actor: &Actor,
    organisation_id: Uuid,
    bytes: &[u8],
    progress: Progress<'_>,
) -> Result<u64, ImportError> {
    let rows = table::read(bytes, Format::sniff(bytes)).map_err(ImportError::Unreadable)?;
    let mut parsed = parse_rows(&rows).map_err(ImportError::Cells)?;
    let mut cache = HashMap::new();
    let mut errors = Vec::new();
    for row in &mut parsed {
        let after_reform = lienhoan_domain::format::local_date(row.input.occurred_at) >= REFORM_DAY;
        match commune_id(store, &mut cache, &row.commune_code, after_reform)
            .await
            .map_err(ImportError::Store)?
        {
            Some(id) => row.input.commune_id = id,
            None => errors.push(CellError::new(
                row.line,
                "commune_code",
                "error-unknown-admin-unit",
                row.commune_code.clone(),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Cells(errors));
    }
    let inputs: Vec<IncidentInput> = parsed.iter().map(|r| r.input.clone()).collect();
    store
        .import_incidents(actor, organisation_id, &inputs, progress)
        .await
        .map_err(|e| match e {
            StoreError::Invalid(fields) => ImportError::Cells(
                fields
                    .into_iter()
                    .map(|f| {
                        let (index, field) = f.field.split_once('.').unwrap_or(("0", &f.field));
                        let row = index.parse::<usize>().ok().and_then(|i| parsed.get(i));
                        CellError {
                            line: row.map_or(0, |r| r.line),
                            column: if field == "commune_id" {
                                "commune_code".into()
                            } else {
                                field.into()
                            },
                            key: f.key,
                            value: String::new(),
                            args: f.args,
                        }
                    })
                    .collect(),
            ),
            other => ImportError::Store(other),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(lines: &[&str]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    }

    #[test]
    fn the_example_rows_parse() {
        let mut rows = vec![header(|c| c.to_uppercase())];
        rows.extend(example_rows());
        let parsed = parse_rows(&rows).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].commune_code, "08776");
        assert_eq!(parsed[0].input.outcome_people, 2);
        assert!(parsed[0].input.cross_border);
        assert_eq!(parsed[1].input.reported_at, parsed[1].input.occurred_at);
    }

    #[test]
    fn errors_name_line_and_column() {
        let mut rows = sheet(&[&COLUMNS.join(",")]);
        rows.extend(sheet(&[
            "08776,14/03/2019 21:30,,criminal.theft,solved,prosecuted,2,2,1,0,0,0,có,,",
            "08776,31/02/2019 21:30,,criminal.theft,done,prosecuted,x,2,1,0,0,0,perhaps,,",
        ]));
        let errors = parse_rows(&rows).unwrap_err();
        let found: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.line, e.column.as_str(), e.key))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, "occurred_at", "error-import-datetime"),
                (3, "status", "error-import-status"),
                (3, "cross_border", "error-import-flag"),
                (3, "outcome_people", "error-import-number"),
            ]
        );
    }

    #[test]
    fn a_header_without_a_column_is_refused() {
        let errors = parse_rows(&sheet(&["commune_code,occurred_at"])).unwrap_err();
        assert_eq!(errors[0].key, "error-import-missing-column");
    }
}
