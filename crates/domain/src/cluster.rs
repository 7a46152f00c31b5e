//! Clusters: members over time, executive board, standing-unit rotation and the versioned
//! coordination regulation.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, TEXT_MAX, optional_text, required_text};

/// Which border the cluster spans.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    InterCommune,
    InterDistrict,
    InterProvince,
}

impl ClusterKind {
    pub const ALL: [ClusterKind; 3] =
        [Self::InterCommune, Self::InterDistrict, Self::InterProvince];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InterCommune => "inter_commune",
            Self::InterDistrict => "inter_district",
            Self::InterProvince => "inter_province",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: Uuid,
    pub name: String,
    pub kind: ClusterKind,
    pub founded_on: Date,
    pub description: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterInput {
    pub name: String,
    pub kind: ClusterKind,
    pub founded_on: Date,
    #[serde(default)]
    pub description: String,
}

impl ClusterInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("name", &self.name, NAME_MAX));
        errors.check(optional_text("description", &self.description, TEXT_MAX));
        if self.founded_on > today {
            errors.push(FieldError::new("founded_on", "error-date-in-future"));
        }
        errors.into_result()
    }
}

/// A period of membership: member from `joined_on` up to, not including, `left_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub joined_on: Date,
    pub left_on: Option<Date>,
}

impl Span {
    pub fn contains(&self, day: Date) -> bool {
        self.joined_on <= day && self.left_on.is_none_or(|left| day < left)
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        let self_before_other_ends = other.left_on.is_none_or(|end| self.joined_on < end);
        let other_before_self_ends = self.left_on.is_none_or(|end| other.joined_on < end);
        self_before_other_ends && other_before_self_ends
    }

    /// Whether the whole inclusive range `[from, to]` lies within this span.
    pub fn covers(&self, from: Date, to: Date) -> bool {
        self.joined_on <= from && self.left_on.is_none_or(|left| to < left)
    }

    /// The days in both spans, if any.
    pub fn intersection(&self, other: &Span) -> Option<Span> {
        let joined_on = self.joined_on.max(other.joined_on);
        let left_on = match (self.left_on, other.left_on) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let span = Span { joined_on, left_on };
        span.left_on
            .is_none_or(|left| joined_on < left)
            .then_some(span)
    }

    /// The days of this span inside the inclusive range `[from, to]`, as an inclusive range;
    /// `None` when they share no day.
    pub fn days_within(&self, from: Date, to: Date) -> Option<(Date, Date)> {
        let first = self.joined_on.max(from);
        let last = match self.left_on.and_then(Date::previous_day) {
            Some(last_member_day) => last_member_day.min(to),
            None => to,
        };
        (first <= last).then_some((first, last))
    }
}

/// The days of any of `spans`, as the fewest spans that neither overlap nor touch, in order.
pub fn union_of_spans(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| s.joined_on);
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if last.left_on.is_none_or(|left| span.joined_on <= left) => {
                last.left_on = match (last.left_on, span.left_on) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(span),
        }
    }
    merged
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub id: Uuid,
    pub cluster_id: Uuid,
    pub organisation_id: Uuid,
    pub joined_on: Date,
    pub left_on: Option<Date>,
    pub note: String,
}

impl Membership {
    pub fn span(&self) -> Span {
        Span {
            joined_on: self.joined_on,
            left_on: self.left_on,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipInput {
    pub organisation_id: Uuid,
    pub joined_on: Date,
    #[serde(default)]
    pub left_on: Option<Date>,
    #[serde(default)]
    pub note: String,
}

impl MembershipInput {
    /// `others` are the organisation's other memberships of the same cluster.
    pub fn validate(&self, founded_on: Date, others: &[Span]) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(optional_text("note", &self.note, NAME_MAX));
        if self.joined_on < founded_on {
            errors.push(
                FieldError::new("joined_on", "error-join-before-founding")
                    .with("founded_on", crate::format::date(founded_on)),
            );
        }
        if self.left_on.is_some_and(|left| left <= self.joined_on) {
            errors.push(FieldError::new("left_on", "error-leave-before-join"));
        }
        let span = Span {
            joined_on: self.joined_on,
            left_on: self.left_on,
        };
        if errors.0.is_empty() && others.iter().any(|o| o.overlaps(&span)) {
            errors.push(FieldError::new("joined_on", "error-membership-overlap"));
        }
        errors.into_result()
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoardRole {
    Head,
    Deputy,
    Member,
}

impl BoardRole {
    pub const ALL: [BoardRole; 3] = [Self::Head, Self::Deputy, Self::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Deputy => "deputy",
            Self::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardMember {
    pub id: Uuid,
    pub cluster_id: Uuid,
    pub person_name: String,
    /// The person's position, e.g. "Phó Chủ tịch UBND huyện".
    pub title: String,
    pub role: BoardRole,
    pub organisation_id: Uuid,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardMemberInput {
    pub person_name: String,
    #[serde(default)]
    pub title: String,
    pub role: BoardRole,
    pub organisation_id: Uuid,
}

impl BoardMemberInput {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("person_name", &self.person_name, NAME_MAX));
        errors.check(optional_text("title", &self.title, NAME_MAX));
        errors.into_result()
    }
}

/// One turn of the standing unit: the organisation hosts briefings from `starts_on` to
/// `ends_on`, both inclusive.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationTurn {
    pub organisation_id: Uuid,
    pub starts_on: Date,
    pub ends_on: Date,
}

/// Checks a whole rotation schedule: turns in order, no gaps, no overlaps, and each host a
/// member for its whole turn. `membership` gives an organisation's spans in the cluster.
pub fn validate_rotation(
    turns: &[RotationTurn],
    membership: impl Fn(Uuid) -> Vec<Span>,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    for (i, turn) in turns.iter().enumerate() {
        if turn.ends_on < turn.starts_on {
            errors.push(FieldError::new(
                format!("turns[{i}].ends_on"),
                "error-end-before-start",
            ));
            continue;
        }
        if !membership(turn.organisation_id)
            .iter()
            .any(|span| span.covers(turn.starts_on, turn.ends_on))
        {
            errors.push(FieldError::new(
                format!("turns[{i}].organisation_id"),
                "error-host-not-member",
            ));
        }
        if let Some(previous) = i.checked_sub(1).map(|p| &turns[p]) {
            let expected = previous.ends_on.next_day();
            if Some(turn.starts_on) > expected {
                errors.push(FieldError::new(
                    format!("turns[{i}].starts_on"),
                    "error-rotation-gap",
                ));
            } else if Some(turn.starts_on) < expected {
                errors.push(FieldError::new(
                    format!("turns[{i}].starts_on"),
                    "error-rotation-overlap",
                ));
            }
        }
    }
    errors.into_result()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegulationVersion {
    pub id: Uuid,
    pub cluster_id: Uuid,
    pub version: i32,
    pub title: String,
    pub signed_on: Date,
    pub signatories: Vec<String>,
    pub body: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulationInput {
    pub title: String,
    pub signed_on: Date,
    pub signatories: Vec<String>,
    #[serde(default)]
    pub body: String,
}

impl RegulationInput {
    /// `latest_signed_on` is the signing date of the newest existing version, if any.
    pub fn validate(
        &self,
        founded_on: Date,
        latest_signed_on: Option<Date>,
        today: Date,
    ) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("title", &self.title, NAME_MAX));
        errors.check(optional_text("body", &self.body, TEXT_MAX));
        if self.signatories.is_empty() {
            errors.push(FieldError::new("signatories", "error-required"));
        }
        for (i, name) in self.signatories.iter().enumerate() {
            errors.check(required_text(&format!("signatories[{i}]"), name, NAME_MAX));
        }
        if self.signed_on > today {
            errors.push(FieldError::new("signed_on", "error-date-in-future"));
        } else if self.signed_on < founded_on {
            errors.push(FieldError::new("signed_on", "error-signed-before-founding"));
        } else if latest_signed_on.is_some_and(|latest| self.signed_on < latest) {
            errors.push(FieldError::new("signed_on", "error-signed-before-previous"));
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn span(joined: Date, left: Option<Date>) -> Span {
        Span {
            joined_on: joined,
            left_on: left,
        }
    }

    #[test]
    fn membership_cases() {
        let founded = date!(2018 - 01 - 24);
        let existing = [span(date!(2018 - 01 - 24), Some(date!(2019 - 01 - 01)))];
        let cases = [
            (date!(2018 - 01 - 24), None, None),
            (date!(2017 - 12 - 31), None, Some("joined_on")),
            (
                date!(2019 - 03 - 05),
                Some(date!(2019 - 03 - 05)),
                Some("left_on"),
            ),
            (
                date!(2019 - 03 - 05),
                Some(date!(2019 - 03 - 01)),
                Some("left_on"),
            ),
        ];
        for (joined, left, expected) in cases {
            let input = MembershipInput {
                organisation_id: Uuid::nil(),
                joined_on: joined,
                left_on: left,
                note: String::new(),
            };
            let got = input
                .validate(founded, &[])
                .err()
                .map(|e| e[0].field.clone());
            assert_eq!(got.as_deref(), expected, "{joined} {left:?}");
        }
        let overlapping = MembershipInput {
            organisation_id: Uuid::nil(),
            joined_on: date!(2018 - 06 - 01),
            left_on: None,
            note: String::new(),
        };
        let errors = overlapping.validate(founded, &existing).unwrap_err();
        assert_eq!(errors[0].key, "error-membership-overlap");
        let after = MembershipInput {
            joined_on: date!(2019 - 01 - 01),
            ..overlapping
        };
        assert!(after.validate(founded, &existing).is_ok());
    }

    #[test]
    fn span_overlap_table() {
        let d =
            |m: u8| Date::from_calendar_date(2020, time::Month::try_from(m).unwrap(), 1).unwrap();
        let cases = [
            (span(d(1), Some(d(3))), span(d(3), None), false),
            (span(d(1), Some(d(3))), span(d(2), Some(d(4))), true),
            (span(d(1), None), span(d(6), Some(d(7))), true),
            (span(d(5), None), span(d(1), Some(d(5))), false),
            (span(d(5), None), span(d(1), None), true),
        ];
        for (a, b, expected) in cases {
            assert_eq!(a.overlaps(&b), expected, "{a:?} {b:?}");
            assert_eq!(b.overlaps(&a), expected, "{b:?} {a:?}");
        }
    }

    #[test]
    fn span_intersection_table() {
        let d =
            |m: u8| Date::from_calendar_date(2020, time::Month::try_from(m).unwrap(), 1).unwrap();
        let cases = [
            (span(d(1), Some(d(3))), span(d(3), None), None),
            (
                span(d(1), Some(d(3))),
                span(d(2), Some(d(4))),
                Some(span(d(2), Some(d(3)))),
            ),
            (
                span(d(1), None),
                span(d(6), Some(d(7))),
                Some(span(d(6), Some(d(7)))),
            ),
            (span(d(5), None), span(d(2), None), Some(span(d(5), None))),
            (span(d(5), Some(d(6))), span(d(1), Some(d(5))), None),
        ];
        for (a, b, expected) in cases {
            assert_eq!(a.intersection(&b), expected, "{a:?} {b:?}");
            assert_eq!(b.intersection(&a), expected, "{b:?} {a:?}");
            // Agrees with overlaps and contains on every day of the year.
            assert_eq!(a.overlaps(&b), expected.is_some(), "{a:?} {b:?}");
            let mut day = d(1);
            while day.year() == 2020 {
                let both = a.contains(day) && b.contains(day);
                assert_eq!(expected.is_some_and(|s| s.contains(day)), both, "{day}");
                day = day.next_day().unwrap();
            }
        }
    }

    #[test]
    fn days_within_table() {
        let cases = [
            // member throughout the range
            (
                span(date!(2019 - 01 - 02), None),
                Some((date!(2021 - 01 - 01), date!(2025 - 12 - 31))),
            ),
            // joined inside the range
            (
                span(date!(2021 - 04 - 20), None),
                Some((date!(2021 - 04 - 20), date!(2025 - 12 - 31))),
            ),
            // left inside the range: the day it left is not a member day
            (
                span(date!(2019 - 01 - 02), Some(date!(2023 - 07 - 01))),
                Some((date!(2021 - 01 - 01), date!(2023 - 06 - 30))),
            ),
            // joined and left inside
            (
                span(date!(2022 - 03 - 15), Some(date!(2022 - 03 - 16))),
                Some((date!(2022 - 03 - 15), date!(2022 - 03 - 15))),
            ),
            // left on the first day of the range: no day inside
            (
                span(date!(2019 - 01 - 02), Some(date!(2021 - 01 - 01))),
                None,
            ),
            // joined after the range
            (span(date!(2026 - 01 - 01), None), None),
        ];
        for (member, expected) in cases {
            assert_eq!(
                member.days_within(date!(2021 - 01 - 01), date!(2025 - 12 - 31)),
                expected,
                "{member:?}"
            );
        }
    }

    #[test]
    fn union_of_spans_table() {
        let d =
            |m: u8| Date::from_calendar_date(2020, time::Month::try_from(m).unwrap(), 1).unwrap();
        let cases: [(Vec<Span>, Vec<Span>); 6] = [
            (vec![], vec![]),
            (vec![span(d(1), Some(d(2)))], vec![span(d(1), Some(d(2)))]),
            // Touching spans become one; the input order does not matter.
            (
                vec![span(d(2), Some(d(3))), span(d(1), Some(d(2)))],
                vec![span(d(1), Some(d(3)))],
            ),
            (
                vec![span(d(1), Some(d(2))), span(d(3), Some(d(4)))],
                vec![span(d(1), Some(d(2))), span(d(3), Some(d(4)))],
            ),
            (
                vec![span(d(1), Some(d(5))), span(d(2), Some(d(3)))],
                vec![span(d(1), Some(d(5)))],
            ),
            (
                vec![
                    span(d(4), None),
                    span(d(1), Some(d(6))),
                    span(d(9), Some(d(10))),
                ],
                vec![span(d(1), None)],
            ),
        ];
        for (spans, expected) in cases {
            assert_eq!(union_of_spans(spans.clone()), expected, "{spans:?}");
        }
    }

    #[test]
    fn membership_on_a_day() {
        let s = span(date!(2019 - 03 - 05), Some(date!(2021 - 01 - 01)));
        assert!(!s.contains(date!(2019 - 03 - 04)));
        assert!(s.contains(date!(2019 - 03 - 05)));
        assert!(s.contains(date!(2020 - 12 - 31)));
        assert!(!s.contains(date!(2021 - 01 - 01)));
    }

    #[test]
    fn rotation_cases() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let outsider = Uuid::from_u128(3);
        let members = |org: Uuid| {
            if org == outsider {
                vec![]
            } else {
                vec![span(date!(2018 - 01 - 01), None)]
            }
        };
        let turn = |org, s, e| RotationTurn {
            organisation_id: org,
            starts_on: s,
            ends_on: e,
        };
        let good = vec![
            turn(a, date!(2018 - 01 - 01), date!(2018 - 06 - 30)),
            turn(b, date!(2018 - 07 - 01), date!(2018 - 12 - 31)),
        ];
        assert!(validate_rotation(&good, members).is_ok());
        let cases = [
            (
                vec![
                    turn(a, date!(2018 - 01 - 01), date!(2018 - 06 - 30)),
                    turn(b, date!(2018 - 07 - 02), date!(2018 - 12 - 31)),
                ],
                "error-rotation-gap",
            ),
            (
                vec![
                    turn(a, date!(2018 - 01 - 01), date!(2018 - 06 - 30)),
                    turn(b, date!(2018 - 06 - 30), date!(2018 - 12 - 31)),
                ],
                "error-rotation-overlap",
            ),
            (
                vec![turn(a, date!(2018 - 06 - 30), date!(2018 - 01 - 01))],
                "error-end-before-start",
            ),
            (
                vec![turn(outsider, date!(2018 - 01 - 01), date!(2018 - 06 - 30))],
                "error-host-not-member",
            ),
            (
                vec![turn(a, date!(2017 - 12 - 01), date!(2018 - 06 - 30))],
                "error-host-not-member",
            ),
        ];
        for (turns, key) in cases {
            let errors = validate_rotation(&turns, members).unwrap_err();
            assert_eq!(errors[0].key, key, "{turns:?}");
        }
    }

    #[test]
    fn regulation_cases() {
        let founded = date!(2018 - 01 - 24);
        let today = date!(2026 - 11 - 22);
        let input = |signed_on, signatories: Vec<&str>| RegulationInput {
            title: "Quy chế phối hợp".into(),
            signed_on,
            signatories: signatories.into_iter().map(String::from).collect(),
            body: String::new(),
        };
        let cases = [
            (input(founded, vec!["UBND xã Cao Đại"]), None, None),
            (input(founded, vec![]), None, Some("error-required")),
            (
                input(date!(2017 - 01 - 01), vec!["A"]),
                None,
                Some("error-signed-before-founding"),
            ),
            (
                input(date!(2027 - 01 - 01), vec!["A"]),
                None,
                Some("error-date-in-future"),
            ),
            (
                input(date!(2019 - 01 - 01), vec!["A"]),
                Some(date!(2019 - 03 - 05)),
                Some("error-signed-before-previous"),
            ),
        ];
        for (regulation, latest, expected) in cases {
            let got = regulation
                .validate(founded, latest, today)
                .err()
                .map(|e| e[0].key);
            assert_eq!(got, expected, "{regulation:?}");
        }
    }
}
