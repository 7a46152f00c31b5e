//! The supervised-person register: only people under a legal decision, with the decision's
//! number, issuing body and dates. Deliberately no field for religion, ethnicity or political
//! opinion. Records expire: they are purged a retention period after the decision ends.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, TEXT_MAX, optional_text, required_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionType {
    /// Án treo, cải tạo không giam giữ.
    Probation,
    /// Giáo dục tại xã, phường, thị trấn.
    EducationAtCommune,
    /// Cai nghiện bắt buộc.
    CompulsoryRehabilitation,
    /// Trường giáo dưỡng / cơ sở giáo dục bắt buộc.
    Reformatory,
    /// Truy nã.
    Wanted,
}

impl DecisionType {
    pub const ALL: [DecisionType; 5] = [
        Self::Probation,
        Self::EducationAtCommune,
        Self::CompulsoryRehabilitation,
        Self::Reformatory,
        Self::Wanted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Probation => "probation",
            Self::EducationAtCommune => "education_at_commune",
            Self::CompulsoryRehabilitation => "compulsory_rehabilitation",
            Self::Reformatory => "reformatory",
            Self::Wanted => "wanted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub full_name: String,
    pub birth_year: i32,
    /// The 12-digit citizen identity number, when known.
    #[serde(default)]
    pub identity_number: Option<String>,
    pub home_commune_id: Uuid,
    pub decision_type: DecisionType,
    pub decision_number: String,
    pub issuing_body: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

impl PersonInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("full_name", &self.full_name, NAME_MAX));
        errors.check(required_text("decision_number", &self.decision_number, 60));
        errors.check(required_text("issuing_body", &self.issuing_body, NAME_MAX));
        if !(1900..=today.year()).contains(&self.birth_year) {
            errors.push(FieldError::new("birth_year", "error-birth-year"));
        }
        if let Some(id) = &self.identity_number
            && !(id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()))
        {
            errors.push(FieldError::new("identity_number", "error-identity-number"));
        }
        if self.ends_on < self.starts_on {
            errors.push(FieldError::new("ends_on", "error-end-before-start"));
        }
        errors.into_result()
    }
}

/// Records whose decision ended before this day are purged.
pub fn purge_cutoff(today: Date, retention_days: i64) -> Date {
    today - Duration::days(retention_days)
}

pub const DEFAULT_RETENTION_DAYS: i64 = 365;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MovementInput {
    pub person_id: Uuid,
    /// The organisation of the place the person moves to.
    pub to_organisation_id: Uuid,
    pub moved_on: Date,
    #[serde(default)]
    pub destination: String,
    #[serde(default)]
    pub note: String,
}

impl MovementInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(optional_text("destination", &self.destination, NAME_MAX));
        errors.check(optional_text("note", &self.note, TEXT_MAX));
        if self.moved_on > today {
            errors.push(FieldError::new("moved_on", "error-date-in-future"));
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn person() -> PersonInput {
        PersonInput {
            full_name: "Nguyễn Văn Bình".into(),
            birth_year: 1990,
            identity_number: Some("008090001234".into()),
            home_commune_id: Uuid::nil(),
            decision_type: DecisionType::Probation,
            decision_number: "12/2020/HS-ST".into(),
            issuing_body: "TAND huyện Sơn Dương".into(),
            starts_on: date!(2020 - 01 - 01),
            ends_on: date!(2022 - 01 - 01),
        }
    }

    #[test]
    fn person_rules() {
        let today = date!(2026 - 11 - 22);
        assert!(person().validate(today).is_ok());
        type Edit = fn(&mut PersonInput);
        let cases: [(Edit, &str); 5] = [
            (|p| p.full_name = " ".into(), "full_name"),
            (|p| p.birth_year = 2030, "birth_year"),
            (
                |p| p.identity_number = Some("12345".into()),
                "identity_number",
            ),
            (|p| p.ends_on = date!(2019 - 01 - 01), "ends_on"),
            (|p| p.decision_number = String::new(), "decision_number"),
        ];
        for (edit, field) in cases {
            let mut p = person();
            edit(&mut p);
            assert_eq!(p.validate(today).unwrap_err()[0].field, field);
        }
    }

    #[test]
    fn purge_cutoff_is_retention_before_today() {
        assert_eq!(
            purge_cutoff(date!(2026 - 11 - 22), 365),
            date!(2025 - 11 - 22)
        );
    }
}
