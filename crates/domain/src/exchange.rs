//! Information exchange: bulletins to a cluster and requests for coordination
//! (*đề nghị phối hợp*) to named members, which acknowledge and answer.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, TEXT_MAX, optional_text, required_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Bulletin,
    Request,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bulletin => "bulletin",
            Self::Request => "request",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Bulletin, Self::Request]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    pub kind: MessageKind,
    pub cluster_id: Uuid,
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Requests name their addressees; bulletins go to every current member.
    #[serde(default)]
    pub addressees: Vec<Uuid>,
    /// Requests must be answered by this day.
    #[serde(default)]
    pub deadline: Option<Date>,
    #[serde(default)]
    pub incident_id: Option<Uuid>,
}

impl MessageInput {
    pub fn validate(&self, today: Date) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("title", &self.title, NAME_MAX));
        errors.check(optional_text("body", &self.body, TEXT_MAX));
        if self.kind == MessageKind::Request {
            if self.addressees.is_empty() {
                errors.push(FieldError::new("addressees", "error-required"));
            }
            match self.deadline {
                None => errors.push(FieldError::new("deadline", "error-required")),
                Some(d) if d < today => {
                    errors.push(FieldError::new("deadline", "error-date-in-past"))
                }
                Some(_) => {}
            }
        }
        errors.into_result()
    }
}

/// A request is overdue once its deadline has passed without an answer.
pub fn is_overdue(deadline: Option<Date>, answered: bool, today: Date) -> bool {
    !answered && deadline.is_some_and(|d| d < today)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub answer: String,
}

impl AnswerInput {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("answer", &self.answer, TEXT_MAX));
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn request_rules() {
        let today = date!(2026 - 11 - 22);
        let request = MessageInput {
            kind: MessageKind::Request,
            cluster_id: Uuid::nil(),
            title: "Đề nghị phối hợp xác minh".into(),
            body: String::new(),
            addressees: vec![Uuid::from_u128(1)],
            deadline: Some(today),
            incident_id: None,
        };
        assert!(request.validate(today).is_ok());
        let cases: [(MessageInput, &str); 3] = [
            (
                MessageInput {
                    addressees: vec![],
                    ..request.clone()
                },
                "addressees",
            ),
            (
                MessageInput {
                    deadline: None,
                    ..request.clone()
                },
                "deadline",
            ),
            (
                MessageInput {
                    deadline: Some(date!(2026 - 11 - 21)),
                    ..request.clone()
                },
                "deadline",
            ),
        ];
        for (input, field) in cases {
            assert_eq!(input.validate(today).unwrap_err()[0].field, field);
        }
        let bulletin = MessageInput {
            kind: MessageKind::Bulletin,
            addressees: vec![],
            deadline: None,
            ..request
        };
        assert!(bulletin.validate(today).is_ok());
    }

    #[test]
    fn overdue() {
        let today = date!(2026 - 11 - 22);
        assert!(is_overdue(Some(date!(2026 - 11 - 21)), false, today));
        assert!(!is_overdue(Some(date!(2026 - 11 - 21)), true, today));
        assert!(!is_overdue(Some(today), false, today));
        assert!(!is_overdue(None, false, today));
    }
}
