//! Statistics: a cluster's (or the country's) figures over a period, grouped by one or two
//! dimensions, compared with the same period a year earlier, as a table, a bar chart and CSV.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use lienhoan_domain::access::Role;
use lienhoan_domain::incident::Outcome;
use lienhoan_domain::stats::{Dimension, Figures, change};
use lienhoan_report::chart::{BarChart, Group, render};
use lienhoan_store::{Statistics, StatisticsQuery};
use time::{Date, Month};

use super::form::Reader;
use super::organisations::query_pairs;
use super::{Choice, Chrome, Form, FormData, OrPage, Page, PageError, PageResult, today};
use crate::AppState;
use crate::i18n::Lang;

pub struct Preset {
    pub label: String,
    pub href: String,
}

pub struct Cell {
    pub value: String,
    pub previous: Option<String>,
    pub change: Option<String>,
    /// `up`, `down` or `same`, for colouring.
    pub trend: &'static str,
}

pub struct Row {
    pub labels: Vec<String>,
    pub cells: Vec<Cell>,
}

pub struct Table {
    pub dims: Vec<String>,
    pub measures: Vec<String>,
    pub rows: Vec<Row>,
    pub total: Row,
    pub period: String,
    pub previous_period: Option<String>,
    pub chart: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "statistics.html")]
struct StatisticsTemplate {
    c: Chrome,
    f: Form,
    clusters: Vec<Choice>,
    national: bool,
    dimensions: Vec<Choice>,
    presets: Vec<Preset>,
    table: Option<Table>,
    error: Option<String>,
    csv_href: String,
}

fn dimension_label(lang: Lang, dim: Dimension) -> String {
    lang.t(&format!("dimension-{}", dim.as_str().replace('_', "-")))
}

fn measure_label(lang: Lang, measure: &str) -> String {
    lang.t(&format!("measure-{}", measure.replace('_', "-")))
}

/// The display label of a key of a dimension.
fn key_label(c: &Chrome, dim: Dimension, key: &str, given: &str) -> String {
    match dim {
        Dimension::Category => c.category(key),
        Dimension::CategoryGroup => c.category_group(key),
        Dimension::Outcome => Outcome::parse(key).map_or(key.to_owned(), |o| c.outcome(&o)),
        Dimension::Month => match key.split_once('-') {
            Some((y, m)) => format!("{m}/{y}"),
            None => key.to_owned(),
        },
        Dimension::Year => key.to_owned(),
        Dimension::Unit | Dimension::Province => {
            if given.is_empty() {
                c.t("stats-unknown")
            } else {
                given.to_owned()
            }
        }
    }
}

fn percent(lang: Lang, p: f64) -> String {
    let text = format!("{p:+.1}%");
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

fn unit_key(measure: &str) -> &'static str {
    match measure {
        "incidents" => "unit-incidents",
        "damage_vnd" => "unit-vnd",
        _ => "unit-people",
    }
}

/// "giảm 13 vụ (-22,4%)".
pub fn change_text(lang: Lang, measure: &str, now: i64, before: i64) -> (String, &'static str) {
    let (difference, pct) = change(now, before);
    if difference == 0 {
        return (lang.t("stats-change-same"), "same");
    }
    let key = if difference < 0 {
        "stats-change-down"
    } else {
        "stats-change-up"
    };
    let mut text = lang.t_args(
        key,
        &[
            ("diff", lang.number(difference.abs())),
            ("unit", lang.t(unit_key(measure))),
        ],
    );
    if let Some(p) = pct {
        text.push_str(&format!(" ({})", percent(lang, p)));
    }
    (text, if difference < 0 { "down" } else { "up" })
}

fn cells(lang: Lang, now: &Figures, before: Option<&Figures>) -> Vec<Cell> {
    Figures::MEASURES
        .iter()
        .enumerate()
        .map(|(i, measure)| {
            let value = now.values()[i];
            let (previous, change, trend) = match before {
                Some(b) => {
                    let was = b.values()[i];
                    let (text, trend) = change_text(lang, measure, value, was);
                    (Some(lang.number(was)), Some(text), trend)
                }
                None => (None, None, "same"),
            };
            Cell {
                value: lang.number(value),
                previous,
                change,
                trend,
            }
        })
        .collect()
}

fn span(from: Date, to: Date) -> String {
    format!(
        "{} – {}",
        lienhoan_domain::format::date(from),
        lienhoan_domain::format::date(to)
    )
}

fn vi_number(v: i64) -> String {
    lienhoan_domain::format::number(v, '.')
}

fn en_number(v: i64) -> String {
    lienhoan_domain::format::number(v, ',')
}

fn table(c: &Chrome, stats: &Statistics) -> Table {
    let lang = c.lang;
    let rows: Vec<Row> = stats
        .rows
        .iter()
        .map(|r| Row {
            labels: stats
                .group_by
                .iter()
                .enumerate()
                .map(|(i, dim)| {
                    key_label(
                        c,
                        *dim,
                        r.keys.get(i).map_or("", String::as_str),
                        r.labels.get(i).map_or("", String::as_str),
                    )
                })
                .collect(),
            cells: cells(
                lang,
                &r.figures,
                r.previous
                    .as_ref()
                    .or(stats.previous_total.as_ref().map(|_| &ZERO)),
            ),
        })
        .collect();
    let total = Row {
        labels: vec![c.t("stats-total")],
        cells: cells(lang, &stats.total, stats.previous_total.as_ref()),
    };
    let period = span(stats.from, stats.to);
    let previous_period = match (stats.previous_from, stats.previous_to) {
        (Some(f), Some(t)) => Some(span(f, t)),
        _ => None,
    };
    let comparing = stats.previous_total.is_some();
    // Short legend entries: "2016", or "2015–2020" for a range over several years.
    let years = |from: Date, to: Date| {
        if from.year() == to.year() {
            from.year().to_string()
        } else {
            format!("{}–{}", from.year(), to.year())
        }
    };
    let mut series = vec![years(stats.from, stats.to)];
    if let (Some(f), Some(t)) = (stats.previous_from, stats.previous_to) {
        series.push(years(f, t));
    }
    let groups = if stats.group_by.is_empty() {
        let mut values = vec![stats.total.incidents];
        if let Some(p) = &stats.previous_total {
            values.push(p.incidents);
        }
        vec![Group {
            label: c.t("stats-total"),
            values,
        }]
    } else {
        stats
            .rows
            .iter()
            .zip(&rows)
            .take(60)
            .map(|(r, row)| {
                let mut values = vec![r.figures.incidents];
                if comparing {
                    values.push(r.previous.map_or(0, |p| p.incidents));
                }
                Group {
                    label: row.labels.join(" · "),
                    values,
                }
            })
            .collect()
    };
    let chart = render(&BarChart {
        series,
        groups,
        format: match lang {
            Lang::Vi => vi_number,
            Lang::En => en_number,
        },
        title: c.t("stats-chart-title"),
    });
    Table {
        dims: stats
            .group_by
            .iter()
            .map(|d| dimension_label(lang, *d))
            .collect(),
        measures: Figures::MEASURES
            .iter()
            .map(|m| measure_label(lang, m))
            .collect(),
        rows,
        total,
        period,
        previous_period,
        chart,
    }
}

const ZERO: Figures = Figures {
    incidents: 0,
    people_prosecuted: 0,
    people_sanctioned: 0,
    deaths: 0,
    injured: 0,
    suspects: 0,
    victims: 0,
    damage_vnd: 0,
};

fn day(y: i32, m: Month, d: u8) -> Date {
    Date::from_calendar_date(y, m, d).expect("a valid calendar day")
}

/// Period presets: (translation key, argument, from, to).
fn presets(c: &Chrome, q: &FormData, today: Date) -> Vec<Preset> {
    let y = today.year();
    let mut list: Vec<(String, Date, Date)> = vec![
        (
            c.t1("stats-preset-year", "year", y),
            day(y, Month::January, 1),
            day(y, Month::December, 31),
        ),
        (
            c.t1("stats-preset-year", "year", y - 1),
            day(y - 1, Month::January, 1),
            day(y - 1, Month::December, 31),
        ),
    ];
    for year in [y, y - 1] {
        list.push((
            c.t1("stats-preset-h1", "year", year),
            day(year, Month::January, 1),
            day(year, Month::June, 30),
        ));
        list.push((
            c.t1("stats-preset-h2", "year", year),
            day(year, Month::July, 1),
            day(year, Month::December, 31),
        ));
    }
    // The police year runs from 15 December to 14 December.
    let police_end = if today > day(y, Month::December, 14) {
        y + 1
    } else {
        y
    };
    for end in [police_end, police_end - 1] {
        list.push((
            c.t1("stats-preset-police-year", "year", end),
            day(end - 1, Month::December, 15),
            day(end, Month::December, 14),
        ));
    }
    list.push((
        c.t("stats-preset-five-years"),
        day(y - 5, Month::January, 1),
        day(y - 1, Month::December, 31),
    ));
    list.into_iter()
        .map(|(label, from, to)| {
            let mut pairs: Vec<(String, String)> =
                q.0.iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "from" | "to" | "format"))
                    .cloned()
                    .collect();
            pairs.push(("from".into(), from.to_string()));
            pairs.push(("to".into(), to.to_string()));
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &pairs {
                ser.append_pair(k, v);
            }
            Preset {
                label: format!("{label} ({})", span(from, to)),
                href: format!("/statistics?{}", ser.finish()),
            }
        })
        .collect()
}

fn csv_escape(text: &str) -> String {
    if text.contains([',', '"', '\n', ';']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv(c: &Chrome, stats: &Statistics) -> String {
    let lang = c.lang;
    let comparing = stats.previous_total.is_some();
    let mut header: Vec<String> = stats
        .group_by
        .iter()
        .map(|d| dimension_label(lang, *d))
        .collect();
    for m in Figures::MEASURES {
        header.push(measure_label(lang, m));
    }
    if comparing {
        for m in Figures::MEASURES {
            header.push(c.t1("stats-previous-of", "measure", measure_label(lang, m)));
        }
    }
    let mut out = String::from("\u{feff}");
    let line = |fields: Vec<String>| {
        fields
            .iter()
            .map(|f| csv_escape(f))
            .collect::<Vec<_>>()
            .join(",")
            + "\r\n"
    };
    out.push_str(&line(header));
    for r in &stats.rows {
        let mut fields: Vec<String> = stats
            .group_by
            .iter()
            .enumerate()
            .map(|(i, dim)| {
                key_label(
                    c,
                    *dim,
                    r.keys.get(i).map_or("", String::as_str),
                    r.labels.get(i).map_or("", String::as_str),
                )
            })
            .collect();
        fields.extend(r.figures.values().iter().map(i64::to_string));
        if comparing {
            let p = r.previous.unwrap_or_default();
            fields.extend(p.values().iter().map(i64::to_string));
        }
        out.push_str(&line(fields));
    }
    let mut fields = vec![c.t("stats-total")];
    fields.extend((1..stats.group_by.len()).map(|_| String::new()));
    fields.extend(stats.total.values().iter().map(i64::to_string));
    if let Some(p) = stats.previous_total {
        fields.extend(p.values().iter().map(i64::to_string));
    }
    out.push_str(&line(fields));
    out
}

async fn statistics(State(state): State<AppState>, page: Page, uri: Uri) -> PageResult {
    let c = page.c.clone().titled("statistics", "stats-title");
    let mut q = query_pairs(&uri);
    let national = matches!(page.actor.role, Role::Admin | Role::Auditor);
    let clusters: Vec<Choice> = state
        .store
        .list_clusters(&page.actor, today())
        .await
        .or_page(&c)?
        .into_iter()
        .map(|s| Choice::new(s.cluster.id, s.cluster.name))
        .collect();
    let today = today();
    // Defaults: the first cluster (or the country), this year, by category group, compared.
    if q.0.is_empty() {
        let cluster = if national {
            String::new()
        } else {
            clusters
                .first()
                .map(|c| c.value.clone())
                .unwrap_or_default()
        };
        q = FormData(vec![
            ("cluster".into(), cluster),
            (
                "from".into(),
                day(today.year(), Month::January, 1).to_string(),
            ),
            (
                "to".into(),
                day(today.year(), Month::December, 31).to_string(),
            ),
            ("g1".into(), "category_group".into()),
            ("compare".into(), "1".into()),
        ]);
    }
    let mut r = Reader::new(&q);
    let cluster_id = r.optional_id("cluster");
    let from = r.date("from");
    let to = r.date("to");
    let errors = r.finish().err();
    let mut group_by = Vec::new();
    for name in ["g1", "g2"] {
        if let Some(d) = Dimension::parse(q.get(name))
            && !group_by.contains(&d)
        {
            group_by.push(d);
        }
    }
    let dimensions = Dimension::ALL
        .iter()
        .map(|d| Choice::new(d.as_str(), dimension_label(c.lang, *d)))
        .collect();
    let mut error = errors.map(|_| c.t("error-date-format"));
    let mut table_out = None;
    let mut stats_out = None;
    if let (None, Some(from), Some(to)) = (&error, from, to) {
        if cluster_id.is_none() && !national {
            error = Some(c.t("stats-choose-cluster"));
        } else if to < from {
            error = Some(c.t("error-end-before-start"));
        } else {
            let query = StatisticsQuery {
                cluster_id,
                from,
                to,
                group_by,
                compare_previous_year: q.has("compare"),
            };
            match state.store.statistics(&page.actor, &query).await {
                Ok(stats) => {
                    table_out = Some(table(&c, &stats));
                    stats_out = Some(stats);
                }
                Err(lienhoan_store::StoreError::Invalid(errors)) => {
                    error = Some(
                        errors
                            .iter()
                            .map(|e| c.lang.field_error(e))
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
                Err(e) => return Err(PageError::from_store(e, &c)),
            }
        }
    }
    if q.get("format") == "csv"
        && let Some(stats) = &stats_out
    {
        let body = csv(&c, stats);
        let name = format!("thong-ke-{}-{}.csv", stats.from, stats.to);
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response());
    }
    let mut csv_pairs: Vec<(String, String)> =
        q.0.iter().filter(|(k, _)| k != "format").cloned().collect();
    csv_pairs.push(("format".into(), "csv".into()));
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &csv_pairs {
        ser.append_pair(k, v);
    }
    let csv_href = format!("/statistics?{}", ser.finish());
    Ok(StatisticsTemplate {
        presets: presets(&c, &q, today),
        f: Form::echo(q),
        clusters,
        national,
        dimensions,
        table: table_out,
        error,
        csv_href,
        c,
    }
    .into_response())
}

pub fn router() -> Router<AppState> {
    Router::new().route("/statistics", get(statistics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_like_a_report() {
        assert_eq!(
            change_text(Lang::Vi, "incidents", 45, 58).0,
            "giảm 13 vụ (-22,4%)"
        );
        assert_eq!(
            change_text(Lang::En, "deaths", 5, 4).0,
            "up 1 people (+25.0%)"
        );
        assert_eq!(change_text(Lang::Vi, "incidents", 3, 0).0, "tăng 3 vụ");
    }
}
