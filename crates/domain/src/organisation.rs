//! Member organisations: the police, People's Committee, enterprise or school of a place.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, required_text};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Police,
    PeoplesCommittee,
    Enterprise,
    School,
    Other,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        Self::Police,
        Self::PeoplesCommittee,
        Self::Enterprise,
        Self::School,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Police => "police",
            Self::PeoplesCommittee => "peoples_committee",
            Self::Enterprise => "enterprise",
            Self::School => "school",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub kind: OrgKind,
    pub admin_unit_id: Uuid,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: OrgKind,
    pub admin_unit_id: Uuid,
}

impl OrganisationInput {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("name", &self.name, NAME_MAX));
        errors.into_result()
    }
}
