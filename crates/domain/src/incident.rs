//! Incidents (*vụ việc*): the category taxonomy, the status workflow, legal outcomes and the
//! rules an incident must satisfy.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, TEXT_MAX, optional_text};

/// A category: a stable code, its group and the translation key of its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    pub code: &'static str,
    pub group: &'static str,
}

impl Category {
    /// Translation key, e.g. `category-criminal-theft`.
    pub fn label_key(&self) -> String {
        format!("category-{}", self.code.replace(['.', '_'], "-"))
    }
}

const fn category(code: &'static str, group: &'static str) -> Category {
    Category { code, group }
}

/// Group codes, in the order reports list them.
pub const CATEGORY_GROUPS: &[&str] = &[
    "criminal",
    "administrative",
    "traffic",
    "fire",
    "dispute",
    "illegal_exit",
    "social_vice",
    "other",
];

/// The two-level taxonomy. Codes are stable: statistics and imports refer to them.
pub const CATEGORIES: &[Category] = &[
    category("criminal.theft", "criminal"),
    category("criminal.robbery", "criminal"),
    category("criminal.assault", "criminal"),
    category("criminal.drugs", "criminal"),
    category("criminal.loan_sharking", "criminal"),
    category("criminal.human_trafficking", "criminal"),
    category("criminal.gambling", "criminal"),
    category("criminal.fraud", "criminal"),
    category("criminal.other", "criminal"),
    category("administrative.violation", "administrative"),
    category("traffic.accident", "traffic"),
    category("fire.explosion", "fire"),
    category("dispute.complaint", "dispute"),
    category("illegal_exit.crossing", "illegal_exit"),
    category("social_vice.vice", "social_vice"),
    category("other.other", "other"),
];

pub fn category_by_code(code: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.code == code)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Verifying,
    Investigating,
    Solved,
    Transferred,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Self::Received,
        Self::Verifying,
        Self::Investigating,
        Self::Solved,
        Self::Transferred,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Verifying => "verifying",
            Self::Investigating => "investigating",
            Self::Solved => "solved",
            Self::Transferred => "transferred",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    fn rank(self) -> u8 {
        match self {
            Self::Received => 0,
            Self::Verifying => 1,
            Self::Investigating => 2,
            Self::Solved | Self::Transferred | Self::Closed => 3,
        }
    }

    /// The workflow moves forward (a step may be skipped); a finished incident may change how it
    /// finished or be reopened for investigation.
    pub fn can_move_to(self, next: Status) -> bool {
        let finished = self.rank() == 3;
        self == next
            || next.rank() > self.rank()
            || (finished && (next.rank() == 3 || next == Self::Investigating))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    None,
    /// Criminal prosecution (*truy cứu trách nhiệm hình sự*).
    Prosecuted,
    /// Administrative sanction (*xử lý hành chính*).
    Sanctioned,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Self::None, Self::Prosecuted, Self::Sanctioned];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Prosecuted => "prosecuted",
            Self::Sanctioned => "sanctioned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What a user enters for an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    /// The commune where it happened.
    pub commune_id: Uuid,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub reported_at: OffsetDateTime,
    pub category: String,
    #[serde(default)]
    pub suspects: i64,
    #[serde(default)]
    pub victims: i64,
    #[serde(default)]
    pub deaths: i64,
    #[serde(default)]
    pub injured: i64,
    /// Property damage in whole đồng.
    #[serde(default)]
    pub damage_vnd: i64,
    #[serde(default)]
    pub narrative: String,
    pub status: Status,
    pub outcome: Outcome,
    /// People prosecuted or sanctioned, by the outcome.
    #[serde(default)]
    pub outcome_people: i64,
    #[serde(default)]
    pub cross_border: bool,
    /// Whether the clusters the owner belongs to see it; cross-border incidents are shared
    /// unless this says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
}

impl IncidentInput {
    pub fn validate(&self, now: OffsetDateTime) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(optional_text("place", &self.place, NAME_MAX));
        errors.check(optional_text("narrative", &self.narrative, TEXT_MAX));
        if self.occurred_at > now {
            errors.push(FieldError::new("occurred_at", "error-date-in-future"));
        }
        if self.reported_at > now {
            errors.push(FieldError::new("reported_at", "error-date-in-future"));
        }
        if self.reported_at < self.occurred_at {
            errors.push(FieldError::new(
                "reported_at",
                "error-reported-before-occurred",
            ));
        }
        if category_by_code(&self.category).is_none() {
            errors.push(FieldError::new("category", "error-unknown-category"));
        }
        for (field, value) in [
            ("suspects", self.suspects),
            ("victims", self.victims),
            ("deaths", self.deaths),
            ("injured", self.injured),
            ("damage_vnd", self.damage_vnd),
            ("outcome_people", self.outcome_people),
        ] {
            if value < 0 {
                errors.push(FieldError::new(field, "error-negative"));
            }
        }
        if self.outcome == Outcome::None && self.outcome_people != 0 {
            errors.push(FieldError::new(
                "outcome_people",
                "error-people-without-outcome",
            ));
        }
        if let Some(lat) = self.latitude
            && !(8.0..=24.0).contains(&lat)
        {
            errors.push(FieldError::new("latitude", "error-outside-vietnam"));
        }
        if let Some(lon) = self.longitude
            && !(102.0..=118.0).contains(&lon)
        {
            errors.push(FieldError::new("longitude", "error-outside-vietnam"));
        }
        errors.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[serde(flatten)]
    pub input: IncidentInput,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn input() -> IncidentInput {
        IncidentInput {
            commune_id: Uuid::nil(),
            place: "Thôn Đồng Giang".into(),
            latitude: None,
            longitude: None,
            occurred_at: datetime!(2019-05-01 20:00 +07:00),
            reported_at: datetime!(2019-05-01 21:00 +07:00),
            category: "criminal.theft".into(),
            suspects: 1,
            victims: 1,
            deaths: 0,
            injured: 0,
            damage_vnd: 5_000_000,
            narrative: String::new(),
            status: Status::Received,
            outcome: Outcome::None,
            outcome_people: 0,
            cross_border: false,
            shared: None,
        }
    }

    #[test]
    fn validation_cases() {
        let now = datetime!(2026-11-22 10:00 +07:00);
        assert!(input().validate(now).is_ok());
        type Edit = fn(&mut IncidentInput);
        let cases: [(Edit, &str, &str); 8] = [
            (
                |i| i.occurred_at = datetime!(2027-01-01 0:00 UTC),
                "occurred_at",
                "error-date-in-future",
            ),
            (
                |i| i.reported_at = datetime!(2019-04-30 0:00 UTC),
                "reported_at",
                "error-reported-before-occurred",
            ),
            (
                |i| i.category = "criminal.piracy".into(),
                "category",
                "error-unknown-category",
            ),
            (|i| i.deaths = -1, "deaths", "error-negative"),
            (|i| i.damage_vnd = -5, "damage_vnd", "error-negative"),
            (
                |i| i.outcome_people = 2,
                "outcome_people",
                "error-people-without-outcome",
            ),
            (
                |i| i.latitude = Some(40.0),
                "latitude",
                "error-outside-vietnam",
            ),
            (
                |i| i.place = "x".repeat(NAME_MAX + 1),
                "place",
                "error-too-long",
            ),
        ];
        for (change, field, key) in cases {
            let mut i = input();
            change(&mut i);
            let errors = i.validate(now).unwrap_err();
            assert_eq!((errors[0].field.as_str(), errors[0].key), (field, key));
        }
    }

    #[test]
    fn workflow() {
        use Status::*;
        let cases = [
            (Received, Verifying, true),
            (Received, Solved, true),
            (Investigating, Verifying, false),
            (Solved, Closed, true),
            (Solved, Investigating, true),
            (Closed, Received, false),
            (Transferred, Transferred, true),
        ];
        for (from, to, ok) in cases {
            assert_eq!(from.can_move_to(to), ok, "{from:?} → {to:?}");
        }
    }

    #[test]
    fn taxonomy_codes_are_unique_and_grouped() {
        for (i, c) in CATEGORIES.iter().enumerate() {
            assert!(CATEGORY_GROUPS.contains(&c.group), "{}", c.code);
            assert!(c.code.starts_with(c.group), "{}", c.code);
            assert!(CATEGORIES[i + 1..].iter().all(|d| d.code != c.code));
        }
        assert_eq!(
            category_by_code("criminal.loan_sharking")
                .unwrap()
                .label_key(),
            "category-criminal-loan-sharking"
        );
    }
}
