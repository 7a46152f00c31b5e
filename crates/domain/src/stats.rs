//! Incident statistics: what one incident adds to the counters, how figures are grouped, and
//! comparison with the same range a year earlier.

use serde::{Deserialize, Serialize};
use time::{Date, Month};
use uuid::Uuid;

use crate::format::local_date;
use crate::incident::{Incident, Outcome, category_by_code};

/// The counted measures. Adding and subtracting them keeps counters exact through edits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    pub incidents: i64,
    pub people_prosecuted: i64,
    pub people_sanctioned: i64,
    pub deaths: i64,
    pub injured: i64,
    pub suspects: i64,
    pub victims: i64,
    pub damage_vnd: i64,
}

impl Figures {
    pub const MEASURES: [&'static str; 8] = [
        "incidents",
        "people_prosecuted",
        "people_sanctioned",
        "deaths",
        "injured",
        "suspects",
        "victims",
        "damage_vnd",
    ];

    pub fn values(&self) -> [i64; 8] {
        [
            self.incidents,
            self.people_prosecuted,
            self.people_sanctioned,
            self.deaths,
            self.injured,
            self.suspects,
            self.victims,
            self.damage_vnd,
        ]
    }

    pub fn from_values(v: [i64; 8]) -> Self {
        Self {
            incidents: v[0],
            people_prosecuted: v[1],
            people_sanctioned: v[2],
            deaths: v[3],
            injured: v[4],
            suspects: v[5],
            victims: v[6],
            damage_vnd: v[7],
        }
    }

    pub fn scaled(&self, factor: i64) -> Self {
        Self::from_values(self.values().map(|v| v * factor))
    }

    pub fn add(&mut self, other: &Figures) {
        let sum = std::array::from_fn(|i| self.values()[i] + other.values()[i]);
        *self = Self::from_values(sum);
    }

    pub fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }
}

/// Where an incident's figures are counted: its organisation, commune, category, outcome and
/// the Vietnamese calendar day it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub organisation_id: Uuid,
    pub commune_id: Uuid,
    pub category: String,
    pub outcome: Outcome,
    pub day: Date,
}

/// What one incident contributes to the counters.
pub fn contribution(incident: &Incident) -> (CounterKey, Figures) {
    let i = &incident.input;
    let key = CounterKey {
        organisation_id: incident.organisation_id,
        commune_id: i.commune_id,
        category: i.category.clone(),
        outcome: i.outcome,
        day: local_date(i.occurred_at),
    };
    let figures = Figures {
        incidents: 1,
        people_prosecuted: if i.outcome == Outcome::Prosecuted {
            i.outcome_people
        } else {
            0
        },
        people_sanctioned: if i.outcome == Outcome::Sanctioned {
            i.outcome_people
        } else {
            0
        },
        deaths: i.deaths,
        injured: i.injured,
        suspects: i.suspects,
        victims: i.victims,
        damage_vnd: i.damage_vnd,
    };
    (key, figures)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The owning organisation.
    Unit,
    /// The province of the commune where it happened.
    Province,
    Category,
    CategoryGroup,
    Outcome,
    Month,
    Year,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Self::Unit,
        Self::Province,
        Self::Category,
        Self::CategoryGroup,
        Self::Outcome,
        Self::Month,
        Self::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Province => "province",
            Self::Category => "category",
            Self::CategoryGroup => "category_group",
            Self::Outcome => "outcome",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Parses `unit,category` into dimensions; an unknown name is an error naming it.
pub fn parse_dimensions(text: &str) -> Result<Vec<Dimension>, String> {
    let mut dims = Vec::new();
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let dim = Dimension::parse(name).ok_or_else(|| name.to_owned())?;
        if !dims.contains(&dim) {
            dims.push(dim);
        }
    }
    Ok(dims)
}

/// yyyymm: how counters name a month, so engines group and compare months as integers.
pub fn month_number(day: Date) -> i64 {
    i64::from(day.year()) * 100 + day.month() as i64
}

/// The first and last day of the month of `day`.
pub fn month_bounds(day: Date) -> (Date, Date) {
    let first = day.replace_day(1).expect("every month has a first day");
    let last = day
        .replace_day(day.month().length(day.year()))
        .expect("a month's length is a valid day");
    (first, last)
}

/// The whole months inside `[from, to]`, as their first and last days; `None` when no month
/// fits. Reports read whole months from monthly counters and the rest from daily ones.
pub fn whole_months(from: Date, to: Date) -> Option<(Date, Date)> {
    let (from_first, _) = month_bounds(from);
    let first = if from == from_first {
        from
    } else {
        month_bounds(from).1.next_day()?
    };
    let (_, to_last) = month_bounds(to);
    let last = if to == to_last {
        to
    } else {
        month_bounds(to).0.previous_day()?
    };
    (first < last).then_some((first, last))
}

/// A range split by what can read it: whole years (from yearly counters), whole months
/// around them (monthly counters) and days at the edges (daily counters). Each part is an
/// inclusive range of days; together they cover the range once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RangeParts {
    pub days: Vec<(Date, Date)>,
    pub months: Vec<(Date, Date)>,
    /// First and last whole year.
    pub years: Option<(i32, i32)>,
}

/// Splits `[from, to]`; with `by_year` false, whole years are read as their months.
pub fn range_parts(from: Date, to: Date, by_year: bool) -> RangeParts {
    let mut parts = RangeParts::default();
    let Some((first, last)) = whole_months(from, to) else {
        parts.days.push((from, to));
        return parts;
    };
    if from < first {
        parts.days.push((from, before(first)));
    }
    if last < to {
        parts.days.push((after(last), to));
    }
    let years = YearSplit::of(first, last);
    match years.years {
        Some(years) if by_year => {
            parts.months = years_rest(first, last, years);
            parts.years = Some(years);
        }
        _ => parts.months.push((first, last)),
    }
    parts
}

fn before(day: Date) -> Date {
    day.previous_day().unwrap_or(day)
}

fn after(day: Date) -> Date {
    day.next_day().unwrap_or(day)
}

/// A range split into its whole calendar years and the days around them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearSplit {
    /// First and last whole year.
    pub years: Option<(i32, i32)>,
    /// The days outside those years, as inclusive ranges: the whole range when no year fits.
    pub rest: Vec<(Date, Date)>,
}

impl YearSplit {
    pub fn of(from: Date, to: Date) -> Self {
        let first_year = if from.ordinal() == 1 {
            from.year()
        } else {
            from.year() + 1
        };
        let last_year = if to.month() == Month::December && to.day() == 31 {
            to.year()
        } else {
            to.year() - 1
        };
        if first_year > last_year {
            return Self {
                years: None,
                rest: vec![(from, to)],
            };
        }
        Self {
            years: Some((first_year, last_year)),
            rest: years_rest(from, to, (first_year, last_year)),
        }
    }
}

/// The days of `[from, to]` before and after the whole years `first..=last` inside it.
fn years_rest(from: Date, to: Date, (first, last): (i32, i32)) -> Vec<(Date, Date)> {
    let mut rest = Vec::new();
    if let Ok(start) = Date::from_calendar_date(first, Month::January, 1)
        && from < start
    {
        rest.push((from, before(start)));
    }
    if let Ok(end) = Date::from_calendar_date(last, Month::December, 31)
        && end < to
    {
        rest.push((after(end), to));
    }
    rest
}

/// The day of the month a reporting month starts on: Vietnamese police statistics run from the
/// 15th of one month to the 14th of the next, and a police year from 15 December.
pub const REPORTING_MONTH_START: u8 = 15;

/// The reporting month of `day`, as the `yyyymm` of the month it starts in.
pub fn reporting_month(day: Date) -> i64 {
    let started = if day.day() >= REPORTING_MONTH_START {
        day
    } else {
        month_bounds(day).0.previous_day().unwrap_or(day)
    };
    month_number(started)
}

/// A range split into whole reporting months and the days around them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingParts {
    /// The days outside the months, as inclusive ranges.
    pub days: Vec<(Date, Date)>,
    /// The first and last month, each as its [`reporting_month`].
    pub months: (i64, i64),
}

/// `[from, to]` as whole reporting months and the days around them, when that leaves fewer days
/// to read one by one than whole calendar months do; `None` otherwise. A report from
/// 15 December to 14 June reads six reporting months where calendar months leave 31 days at
/// its edges.
pub fn reporting_month_parts(from: Date, to: Date) -> Option<ReportingParts> {
    // The first 15th on or after `from`, and the last 14th on or before `to`.
    let first = if from.day() <= REPORTING_MONTH_START {
        from
    } else {
        month_bounds(from).1.next_day()?
    }
    .replace_day(REPORTING_MONTH_START)
    .ok()?;
    let last = if to.day() >= REPORTING_MONTH_START - 1 {
        to
    } else {
        month_bounds(to).0.previous_day()?
    }
    .replace_day(REPORTING_MONTH_START - 1)
    .ok()?;
    if last < first {
        return None;
    }
    let edges = |parts: &[(Date, Date)]| -> i64 {
        parts.iter().map(|(a, b)| (*b - *a).whole_days() + 1).sum()
    };
    let mut days = Vec::new();
    if from < first {
        days.push((from, before(first)));
    }
    if last < to {
        days.push((after(last), to));
    }
    let calendar = range_parts(from, to, false);
    (edges(&days) < edges(&calendar.days)).then(|| ReportingParts {
        days,
        months: (reporting_month(first), reporting_month(last)),
    })
}

/// The counter key columns a grouping needs. A report sums every other key away inside the
/// engine, so it reads as many rows as its answer has, not as many as there are counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyColumns {
    pub organisation: bool,
    pub province: bool,
    pub category: bool,
    pub outcome: bool,
    pub month: bool,
    /// The year alone, which yearly counters can answer.
    pub year: bool,
}

impl KeyColumns {
    pub fn for_dimensions(dims: &[Dimension]) -> Self {
        let mut columns = Self::default();
        for dim in dims {
            match dim {
                Dimension::Unit => columns.organisation = true,
                Dimension::Province => columns.province = true,
                Dimension::Category | Dimension::CategoryGroup => columns.category = true,
                Dimension::Outcome => columns.outcome = true,
                Dimension::Month => columns.month = true,
                Dimension::Year => columns.year = true,
            }
        }
        columns
    }
}

/// Counters summed over the key columns a report groups by; the others are `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupedFigures {
    pub organisation_id: Option<Uuid>,
    pub province_id: Option<Uuid>,
    pub category: Option<String>,
    pub outcome: Option<Outcome>,
    /// The first day of the month.
    pub month: Option<Date>,
    pub figures: Figures,
}

impl GroupedFigures {
    /// The value of a dimension for this row; empty when its column was summed away.
    pub fn dimension_value(&self, dim: Dimension) -> String {
        let text = |v: Option<String>| v.unwrap_or_default();
        match dim {
            Dimension::Unit => text(self.organisation_id.map(|o| o.to_string())),
            Dimension::Province => text(self.province_id.map(|p| p.to_string())),
            Dimension::Category => text(self.category.clone()),
            Dimension::CategoryGroup => text(self.category.as_deref().map(|code| {
                category_by_code(code)
                    .map(|c| c.group.to_owned())
                    .unwrap_or_else(|| "other".into())
            })),
            Dimension::Outcome => text(self.outcome.map(|o| o.as_str().to_owned())),
            Dimension::Month => text(
                self.month
                    .map(|m| format!("{:04}-{:02}", m.year(), m.month() as u8)),
            ),
            Dimension::Year => text(self.month.map(|m| format!("{:04}", m.year()))),
        }
    }
}

/// The same calendar day a year earlier; 29 February becomes 28 February.
pub fn year_earlier(day: Date) -> Date {
    let year = day.year() - 1;
    Date::from_calendar_date(year, day.month(), day.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .expect("28 February exists every year")
}

/// Change from `previous` to `current`, and the percentage when `previous` is not zero.
pub fn change(current: i64, previous: i64) -> (i64, Option<f64>) {
    let difference = current - previous;
    let percent = (previous != 0).then(|| (difference as f64) * 100.0 / previous as f64);
    (difference, percent.map(|p| (p * 10.0).round() / 10.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{IncidentInput, Status};
    use time::macros::{date, datetime};

    #[test]
    fn a_day_belongs_to_the_reporting_month_started_on_or_before_the_15th() {
        for (day, month) in [
            (date!(2024 - 12 - 15), 202412),
            (date!(2024 - 12 - 31), 202412),
            (date!(2025 - 01 - 01), 202412),
            (date!(2025 - 01 - 14), 202412),
            (date!(2025 - 01 - 15), 202501),
            (date!(2025 - 03 - 14), 202502),
            (date!(2024 - 03 - 01), 202402),
        ] {
            assert_eq!(reporting_month(day), month, "{day}");
        }
    }

    #[test]
    fn a_range_reads_reporting_months_when_they_leave_fewer_edge_days() {
        let d = |a: Date, b: Date| (a, b);
        let parts =
            |days: Vec<(Date, Date)>, months: (i64, i64)| Some(ReportingParts { days, months });
        for (from, to, expected) in [
            // A police half-year: six reporting months, no edge.
            (
                date!(2024 - 12 - 15),
                date!(2025 - 06 - 14),
                parts(vec![], (202412, 202505)),
            ),
            // A police year with a day either side.
            (
                date!(2024 - 12 - 14),
                date!(2025 - 12 - 15),
                parts(
                    vec![
                        d(date!(2024 - 12 - 14), date!(2024 - 12 - 14)),
                        d(date!(2025 - 12 - 15), date!(2025 - 12 - 15)),
                    ],
                    (202412, 202511),
                ),
            ),
            // Calendar months fit better, or exactly.
            (date!(2025 - 01 - 01), date!(2025 - 12 - 31), None),
            (date!(2025 - 01 - 01), date!(2025 - 06 - 14), None),
            // No whole calendar month inside, one reporting month.
            (
                date!(2025 - 01 - 10),
                date!(2025 - 02 - 20),
                parts(
                    vec![
                        d(date!(2025 - 01 - 10), date!(2025 - 01 - 14)),
                        d(date!(2025 - 02 - 15), date!(2025 - 02 - 20)),
                    ],
                    (202501, 202501),
                ),
            ),
            // No whole reporting month inside.
            (date!(2025 - 01 - 16), date!(2025 - 02 - 13), None),
            (date!(2025 - 01 - 15), date!(2025 - 02 - 13), None),
        ] {
            assert_eq!(reporting_month_parts(from, to), expected, "{from} to {to}");
        }
    }

    #[test]
    fn an_incident_counts_on_its_vietnamese_day() {
        let incident = Incident {
            id: Uuid::nil(),
            organisation_id: Uuid::from_u128(1),
            input: IncidentInput {
                commune_id: Uuid::from_u128(2),
                place: String::new(),
                latitude: None,
                longitude: None,
                occurred_at: datetime!(2019-12-31 18:30 UTC),
                reported_at: datetime!(2019-12-31 19:00 UTC),
                category: "criminal.drugs".into(),
                suspects: 3,
                victims: 0,
                deaths: 0,
                injured: 1,
                damage_vnd: 0,
                narrative: String::new(),
                status: Status::Solved,
                outcome: Outcome::Prosecuted,
                outcome_people: 3,
                cross_border: false,
                shared: None,
            },
            created_at: datetime!(2020-01-01 0:00 UTC),
            updated_at: datetime!(2020-01-01 0:00 UTC),
        };
        let (key, figures) = contribution(&incident);
        assert_eq!(key.day, date!(2020 - 01 - 01));
        assert_eq!(figures.people_prosecuted, 3);
        assert_eq!(figures.people_sanctioned, 0);
        let row = GroupedFigures {
            organisation_id: Some(key.organisation_id),
            category: Some(key.category.clone()),
            outcome: Some(key.outcome),
            month: Some(date!(2020 - 01 - 01)),
            figures,
            ..GroupedFigures::default()
        };
        assert_eq!(row.dimension_value(Dimension::CategoryGroup), "criminal");
        assert_eq!(row.dimension_value(Dimension::Month), "2020-01");
        assert_eq!(row.dimension_value(Dimension::Province), "");
        let mut total = figures;
        total.add(&figures.scaled(-1));
        assert!(total.is_zero());
    }

    #[test]
    fn groupings_read_only_the_key_columns_they_need() {
        use Dimension::*;
        let columns = |o, p, c, u, m, y| KeyColumns {
            organisation: o,
            province: p,
            category: c,
            outcome: u,
            month: m,
            year: y,
        };
        let no = false;
        let cases: [(&[Dimension], KeyColumns); 6] = [
            (&[], columns(no, no, no, no, no, no)),
            (&[Province, Category], columns(no, true, true, no, no, no)),
            (&[CategoryGroup], columns(no, no, true, no, no, no)),
            (&[Year, Outcome], columns(no, no, no, true, no, true)),
            (&[Unit, Month], columns(true, no, no, no, true, no)),
            (&Dimension::ALL, columns(true, true, true, true, true, true)),
        ];
        for (dims, expected) in cases {
            assert_eq!(KeyColumns::for_dimensions(dims), expected, "{dims:?}");
        }
    }

    #[test]
    fn whole_months_inside_a_range() {
        let cases = [
            (
                date!(2015 - 07 - 03),
                date!(2020 - 07 - 02),
                Some((date!(2015 - 08 - 01), date!(2020 - 06 - 30))),
            ),
            (
                date!(2017 - 01 - 01),
                date!(2017 - 12 - 31),
                Some((date!(2017 - 01 - 01), date!(2017 - 12 - 31))),
            ),
            (
                date!(2016 - 12 - 15),
                date!(2017 - 12 - 14),
                Some((date!(2017 - 01 - 01), date!(2017 - 11 - 30))),
            ),
            (
                date!(2020 - 02 - 01),
                date!(2020 - 02 - 29),
                Some((date!(2020 - 02 - 01), date!(2020 - 02 - 29))),
            ),
            (date!(2020 - 02 - 02), date!(2020 - 03 - 30), None),
            (date!(2020 - 02 - 02), date!(2020 - 02 - 20), None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(whole_months(from, to), expected, "{from} {to}");
        }
        assert_eq!(
            month_bounds(date!(2024 - 02 - 10)),
            (date!(2024 - 02 - 01), date!(2024 - 02 - 29))
        );
    }

    #[test]
    fn ranges_split_into_years_months_and_days() {
        let d = |y, m, day| Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap();
        let parts = |days: &[(Date, Date)], months: &[(Date, Date)], years| RangeParts {
            days: days.to_vec(),
            months: months.to_vec(),
            years,
        };
        let cases = [
            // The five-year review of the benchmark: years only.
            (
                d(2021, 1, 1),
                d(2025, 12, 31),
                true,
                parts(&[], &[], Some((2021, 2025))),
            ),
            // The same without yearly counters: one run of months.
            (
                d(2021, 1, 1),
                d(2025, 12, 31),
                false,
                parts(&[], &[(d(2021, 1, 1), d(2025, 12, 31))], None),
            ),
            // A police year, 15 December – 14 December: days, months, no whole year.
            (
                d(2016, 12, 15),
                d(2017, 12, 14),
                true,
                parts(
                    &[
                        (d(2016, 12, 15), d(2016, 12, 31)),
                        (d(2017, 12, 1), d(2017, 12, 14)),
                    ],
                    &[(d(2017, 1, 1), d(2017, 11, 30))],
                    None,
                ),
            ),
            // Days, months, years, months, days.
            (
                d(2015, 7, 3),
                d(2020, 7, 2),
                true,
                parts(
                    &[
                        (d(2015, 7, 3), d(2015, 7, 31)),
                        (d(2020, 7, 1), d(2020, 7, 2)),
                    ],
                    &[
                        (d(2015, 8, 1), d(2015, 12, 31)),
                        (d(2020, 1, 1), d(2020, 6, 30)),
                    ],
                    Some((2016, 2019)),
                ),
            ),
            // Inside one month: days only.
            (
                d(2020, 2, 2),
                d(2020, 2, 20),
                true,
                parts(&[(d(2020, 2, 2), d(2020, 2, 20))], &[], None),
            ),
        ];
        for (from, to, by_year, expected) in cases {
            assert_eq!(
                range_parts(from, to, by_year),
                expected,
                "{from} {to} {by_year}"
            );
        }
    }

    #[test]
    fn comparisons() {
        assert_eq!(year_earlier(date!(2020 - 02 - 29)), date!(2019 - 02 - 28));
        assert_eq!(year_earlier(date!(2017 - 12 - 14)), date!(2016 - 12 - 14));
        assert_eq!(change(37, 50), (-13, Some(-26.0)));
        assert_eq!(change(5, 0), (5, None));
        assert_eq!(
            parse_dimensions("unit, year,unit"),
            Ok(vec![Dimension::Unit, Dimension::Year])
        );
        assert_eq!(parse_dimensions("unit,planet"), Err("planet".into()));
    }

    #[test]
    fn whole_years_and_the_days_around_them() {
        let cases = [
            (
                date!(2021 - 01 - 01),
                date!(2025 - 12 - 31),
                Some((2021, 2025)),
                vec![],
            ),
            (
                date!(2020 - 12 - 15),
                date!(2022 - 12 - 14),
                Some((2021, 2021)),
                vec![
                    (date!(2020 - 12 - 15), date!(2020 - 12 - 31)),
                    (date!(2022 - 01 - 01), date!(2022 - 12 - 14)),
                ],
            ),
            (
                date!(2019 - 03 - 01),
                date!(2020 - 12 - 31),
                Some((2020, 2020)),
                vec![(date!(2019 - 03 - 01), date!(2019 - 12 - 31))],
            ),
            (
                date!(2020 - 01 - 01),
                date!(2020 - 12 - 30),
                None,
                vec![(date!(2020 - 01 - 01), date!(2020 - 12 - 30))],
            ),
            (
                date!(2020 - 06 - 01),
                date!(2021 - 05 - 31),
                None,
                vec![(date!(2020 - 06 - 01), date!(2021 - 05 - 31))],
            ),
        ];
        for (from, to, years, rest) in cases {
            assert_eq!(
                YearSplit::of(from, to),
                YearSplit { years, rest },
                "{from} – {to}"
            );
        }
    }
}
