//! Roles and what each may see and change. The storage layer turns these scopes into SQL
//! `WHERE` clauses; nothing is fetched first and filtered after.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, required_text};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Commander,
    Officer,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Admin,
        Self::Coordinator,
        Self::Commander,
        Self::Officer,
        Self::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Coordinator => "coordinator",
            Self::Commander => "commander",
            Self::Officer => "officer",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who is acting. Every store call takes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    /// System-wide roles (admin, auditor) may have no organisation.
    pub organisation_id: Option<Uuid>,
    pub role: Role,
}

/// Which rows of a kind an actor may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Rows tied to this organisation (for clusters: those it is or was a member of).
    Organisation(Uuid),
}

impl Actor {
    /// The system itself, for command-line work done by the operator of the machine.
    pub fn system() -> Self {
        Self {
            user_id: Uuid::nil(),
            username: "system".into(),
            organisation_id: None,
            role: Role::Admin,
        }
    }

    fn sees_everything(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Auditor)
    }

    fn scope(&self) -> Scope {
        match self.organisation_id {
            Some(org) if !self.sees_everything() => Scope::Organisation(org),
            // A scoped role without an organisation sees only what is tied to no organisation.
            None if !self.sees_everything() => Scope::Organisation(Uuid::nil()),
            _ => Scope::All,
        }
    }

    pub fn cluster_scope(&self) -> Scope {
        self.scope()
    }

    pub fn user_scope(&self) -> Scope {
        self.scope()
    }

    pub fn can_manage_reference_data(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn can_create_clusters(&self) -> bool {
        self.role == Role::Admin
    }

    /// Changing a cluster's members, board, rotation or regulation.
    pub fn can_edit_cluster(&self, actor_org_is_member: bool) -> bool {
        self.role == Role::Admin || (self.role == Role::Coordinator && actor_org_is_member)
    }

    /// Creating or changing an account of `org` with `role`.
    pub fn can_manage_user(&self, org: Option<Uuid>, role: Role) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Commander => {
                org == self.organisation_id && matches!(role, Role::Commander | Role::Officer)
            }
            _ => false,
        }
    }

    /// Recording or editing an incident owned by `org`.
    pub fn can_write_incident(&self, org: Uuid) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Coordinator | Role::Commander | Role::Officer => {
                self.organisation_id == Some(org)
            }
            Role::Auditor => false,
        }
    }

    pub fn can_delete_incident(&self, org: Uuid) -> bool {
        self.role == Role::Admin
            || (self.role == Role::Commander && self.organisation_id == Some(org))
    }

    /// Sending bulletins and requests, acknowledging and answering them: people working for a
    /// member organisation.
    pub fn can_exchange(&self) -> bool {
        self.organisation_id.is_some()
            && matches!(
                self.role,
                Role::Coordinator | Role::Commander | Role::Officer
            )
    }

    /// Working with the supervised-person register, which is need-to-know: only the
    /// organisations concerned, never the system-wide roles.
    pub fn can_use_register(&self) -> bool {
        self.can_exchange()
    }

    pub fn can_read_audit(&self) -> bool {
        self.sees_everything()
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    pub role: Role,
}

pub const PASSWORD_MIN: usize = 8;

pub fn validate_username(username: &str) -> Result<(), FieldError> {
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if username.len() < 3 || username.len() > 64 || !ok_chars {
        return Err(FieldError::new("username", "error-username-format"));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<(), FieldError> {
    if password.chars().count() < PASSWORD_MIN || password.len() > 1024 {
        return Err(FieldError::new("password", "error-password-length").with("min", PASSWORD_MIN));
    }
    Ok(())
}

impl NewUser {
    /// `allow_weak_password` is for the demo accounts only.
    pub fn validate(&self, allow_weak_password: bool) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(validate_username(&self.username));
        errors.check(required_text("display_name", &self.display_name, NAME_MAX));
        if !allow_weak_password {
            errors.check(validate_password(&self.password));
        }
        if self.organisation_id.is_none() && !matches!(self.role, Role::Admin | Role::Auditor) {
            errors.push(FieldError::new("organisation_id", "error-required"));
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: u128) -> Actor {
        Actor {
            user_id: Uuid::from_u128(99),
            username: "x".into(),
            organisation_id: Some(Uuid::from_u128(org)),
            role,
        }
    }

    #[test]
    fn scopes_by_role() {
        for (role, all) in [
            (Role::Admin, true),
            (Role::Auditor, true),
            (Role::Coordinator, false),
            (Role::Commander, false),
            (Role::Officer, false),
        ] {
            let a = actor(role, 1);
            let expected = if all {
                Scope::All
            } else {
                Scope::Organisation(Uuid::from_u128(1))
            };
            assert_eq!(a.cluster_scope(), expected, "{role:?}");
            assert_eq!(a.user_scope(), expected, "{role:?}");
            assert_eq!(a.can_read_audit(), all, "{role:?}");
        }
    }

    #[test]
    fn who_edits_clusters() {
        let cases = [
            (Role::Admin, false, true),
            (Role::Coordinator, true, true),
            (Role::Coordinator, false, false),
            (Role::Commander, true, false),
            (Role::Officer, true, false),
            (Role::Auditor, true, false),
        ];
        for (role, member, expected) in cases {
            assert_eq!(
                actor(role, 1).can_edit_cluster(member),
                expected,
                "{role:?} {member}"
            );
        }
    }

    #[test]
    fn who_manages_users() {
        let own = Some(Uuid::from_u128(1));
        let other = Some(Uuid::from_u128(2));
        let cases = [
            (Role::Admin, other, Role::Admin, true),
            (Role::Commander, own, Role::Officer, true),
            (Role::Commander, own, Role::Commander, true),
            (Role::Commander, own, Role::Admin, false),
            (Role::Commander, own, Role::Auditor, false),
            (Role::Commander, other, Role::Officer, false),
            (Role::Commander, None, Role::Officer, false),
            (Role::Coordinator, own, Role::Officer, false),
            (Role::Officer, own, Role::Officer, false),
            (Role::Auditor, own, Role::Officer, false),
        ];
        for (role, org, target, expected) in cases {
            assert_eq!(
                actor(role, 1).can_manage_user(org, target),
                expected,
                "{role:?} {target:?}"
            );
        }
    }

    #[test]
    fn who_writes_incidents() {
        let own = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let cases = [
            (Role::Admin, other, true, true),
            (Role::Commander, own, true, true),
            (Role::Commander, other, false, false),
            (Role::Officer, own, true, false),
            (Role::Coordinator, own, true, false),
            (Role::Auditor, own, false, false),
        ];
        for (role, org, write, delete) in cases {
            let a = actor(role, 1);
            assert_eq!(a.can_write_incident(org), write, "{role:?}");
            assert_eq!(a.can_delete_incident(org), delete, "{role:?}");
        }
    }

    #[test]
    fn who_exchanges_and_uses_the_register() {
        let cases = [
            (Role::Admin, false),
            (Role::Auditor, false),
            (Role::Coordinator, true),
            (Role::Commander, true),
            (Role::Officer, true),
        ];
        for (role, expected) in cases {
            assert_eq!(actor(role, 1).can_exchange(), expected, "{role:?}");
            assert_eq!(actor(role, 1).can_use_register(), expected, "{role:?}");
        }
        let mut without_org = actor(Role::Officer, 1);
        without_org.organisation_id = None;
        assert!(!without_org.can_use_register());
    }

    #[test]
    fn usernames_and_passwords() {
        assert!(validate_username("officer.nahang").is_ok());
        for bad in ["ab", "có dấu", "a b", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("1234567").is_err());
    }
}
