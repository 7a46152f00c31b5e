//! What the rest of the system asks of storage. Every engine implements [`Store`] and must pass
//! the [`contract`] suite; nothing outside an engine knows which engine it talks to.

mod error;
mod views;

#[cfg(feature = "contract")]
pub mod contract;

pub use error::{StoreError, StoreResult};
pub use views::*;

use async_trait::async_trait;
use lienhoan_domain::access::{Actor, NewUser};
use lienhoan_domain::audit::ChainBreak;
use lienhoan_domain::cluster::{
    BoardMemberInput, Cluster, ClusterInput, Membership, MembershipInput, RegulationInput,
    RegulationVersion, RotationTurn,
};
use lienhoan_domain::exchange::{AnswerInput, MessageInput};
use lienhoan_domain::geo::{AdminUnit, NewHistoricalUnit, SuccessionRecord, UnitRecord};
use lienhoan_domain::incident::{Incident, IncidentInput};
use lienhoan_domain::organisation::{Organisation, OrganisationInput};
use lienhoan_domain::register::{MovementInput, PersonInput};
use time::Date;
use uuid::Uuid;

/// Called with the number of rows done so far during long work.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

#[async_trait]
pub trait GeoStore {
    /// Loads shipped unit lists and successions; running it again changes nothing.
    async fn import_geo(
        &self,
        actor: &Actor,
        units: &[UnitRecord],
        successions: &[SuccessionRecord],
        progress: Progress<'_>,
    ) -> StoreResult<GeoImportSummary>;
    async fn add_historical_unit(
        &self,
        actor: &Actor,
        input: &NewHistoricalUnit,
    ) -> StoreResult<AdminUnit>;
    async fn add_unit_alias(&self, actor: &Actor, unit_id: Uuid, alias: &str) -> StoreResult<()>;
    async fn admin_unit(&self, id: Uuid) -> StoreResult<AdminUnitView>;
    async fn admin_unit_by_code(&self, dataset: &str, code: &str) -> StoreResult<AdminUnit>;
    async fn search_admin_units(&self, query: &AdminUnitQuery) -> StoreResult<Page<AdminUnitView>>;
}

#[async_trait]
pub trait OrganisationStore {
    async fn create_organisation(
        &self,
        actor: &Actor,
        input: &OrganisationInput,
    ) -> StoreResult<Organisation>;
    async fn update_organisation(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &OrganisationInput,
    ) -> StoreResult<Organisation>;
    async fn organisation(&self, id: Uuid) -> StoreResult<OrganisationView>;
    async fn list_organisations(
        &self,
        query: &OrganisationQuery,
    ) -> StoreResult<Page<OrganisationView>>;
}

#[async_trait]
pub trait ClusterStore {
    async fn create_cluster(&self, actor: &Actor, input: &ClusterInput) -> StoreResult<Cluster>;
    async fn update_cluster(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &ClusterInput,
    ) -> StoreResult<Cluster>;
    /// Clusters the actor may see, with their member count on `on`.
    async fn list_clusters(&self, actor: &Actor, on: Date) -> StoreResult<Vec<ClusterSummary>>;
    async fn cluster(&self, actor: &Actor, id: Uuid) -> StoreResult<ClusterDetail>;
    /// Members on a given day.
    async fn members_on(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        on: Date,
    ) -> StoreResult<Vec<MemberView>>;
    async fn add_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        input: &MembershipInput,
    ) -> StoreResult<Membership>;
    /// Records that a member left (`left_on` set) or corrects a membership's dates.
    async fn update_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        membership_id: Uuid,
        input: &MembershipInput,
    ) -> StoreResult<Membership>;
    /// Deletes a membership entered by mistake; a member that left keeps its history instead.
    async fn remove_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        membership_id: Uuid,
    ) -> StoreResult<()>;
    async fn add_board_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        input: &BoardMemberInput,
    ) -> StoreResult<BoardMemberView>;
    async fn remove_board_member(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        board_member_id: Uuid,
    ) -> StoreResult<()>;
    /// Replaces the whole standing-unit rotation schedule.
    async fn set_rotation(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        turns: &[RotationTurn],
    ) -> StoreResult<Vec<RotationTurnView>>;
    async fn add_regulation(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        input: &RegulationInput,
    ) -> StoreResult<RegulationVersion>;
}

#[async_trait]
pub trait AccountStore {
    /// `allow_weak_password` is for the demo accounts only.
    async fn create_user(
        &self,
        actor: &Actor,
        input: &NewUser,
        allow_weak_password: bool,
    ) -> StoreResult<UserView>;
    async fn user_by_username(&self, actor: &Actor, username: &str) -> StoreResult<UserView>;
    async fn list_users(&self, actor: &Actor) -> StoreResult<Vec<UserView>>;
    async fn set_password(&self, actor: &Actor, user_id: Uuid, password: &str) -> StoreResult<()>;
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: Uuid,
        disabled: bool,
    ) -> StoreResult<()>;
    /// Checks the password, counts failures against the limits, and opens a session.
    async fn login(&self, username: &str, password: &str, address: &str)
    -> StoreResult<NewSession>;
    /// The actor behind a session token, if the session is open; extends it on use.
    async fn session_actor(&self, token: &str) -> StoreResult<Option<Actor>>;
    async fn logout(&self, actor: &Actor, token: &str) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditStore {
    async fn audit_log(&self, actor: &Actor, query: &AuditQuery) -> StoreResult<Page<AuditView>>;
    /// Walks the whole chain; the outer error is a storage failure, the inner one a break.
    async fn verify_audit(&self, progress: Progress<'_>) -> StoreResult<Result<u64, ChainBreak>>;
}

#[async_trait]
pub trait IncidentStore {
    /// Records an incident owned by `organisation_id` (the actor's own unless an admin).
    async fn create_incident(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        input: &IncidentInput,
    ) -> StoreResult<Incident>;
    async fn update_incident(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &IncidentInput,
    ) -> StoreResult<Incident>;
    /// Records many incidents in one transaction: all of them, or none when any breaks a rule
    /// (the errors name the row as `<index>.<field>`).
    async fn import_incidents(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
        inputs: &[IncidentInput],
        progress: Progress<'_>,
    ) -> StoreResult<u64>;
    /// Only a commander of the owning organisation (or an admin) deletes, giving a reason.
    async fn delete_incident(&self, actor: &Actor, id: Uuid, reason: &str) -> StoreResult<()>;
    async fn incident(&self, actor: &Actor, id: Uuid) -> StoreResult<IncidentView>;
    /// The audit entries of an incident the actor may see: who recorded and changed what.
    async fn incident_history(&self, actor: &Actor, id: Uuid) -> StoreResult<Vec<AuditView>>;
    async fn list_incidents(
        &self,
        actor: &Actor,
        query: &IncidentQuery,
    ) -> StoreResult<Page<IncidentView>>;
}

#[async_trait]
pub trait StatisticsStore {
    /// Figures read from the counters kept on every write, never from the records.
    async fn statistics(&self, actor: &Actor, query: &StatisticsQuery) -> StoreResult<Statistics>;
    /// Stores the rollups that reports read whole years and months from in key order again,
    /// where the engine keeps rows in the order they were written: after many writes, a
    /// year's rows lie on as many pages as it has rows. Changes no figure. Run by the server
    /// daily and after a large import.
    async fn compact_statistics(&self, actor: &Actor) -> StoreResult<()>;
}

#[async_trait]
pub trait ExchangeStore {
    async fn send_message(&self, actor: &Actor, input: &MessageInput) -> StoreResult<MessageView>;
    /// Messages to the actor's organisation (`sent` false) or from it (`sent` true).
    async fn messages(&self, actor: &Actor, query: &MessageQuery)
    -> StoreResult<Page<MessageView>>;
    /// One message; opening it marks it read for the actor.
    async fn message(&self, actor: &Actor, id: Uuid) -> StoreResult<MessageView>;
    async fn acknowledge_message(&self, actor: &Actor, id: Uuid) -> StoreResult<()>;
    async fn answer_message(&self, actor: &Actor, id: Uuid, input: &AnswerInput)
    -> StoreResult<()>;
    /// Messages about an incident that the actor may see, oldest first.
    async fn incident_messages(
        &self,
        actor: &Actor,
        incident_id: Uuid,
    ) -> StoreResult<Vec<MessageView>>;
    /// Messages to the actor's organisation that the actor has not opened.
    async fn unread_count(&self, actor: &Actor) -> StoreResult<i64>;
}

/// Personal data under a legal decision: need-to-know, every read audited, purged after the
/// decision ends plus the retention period.
#[async_trait]
pub trait RegisterStore {
    async fn add_person(&self, actor: &Actor, input: &PersonInput) -> StoreResult<PersonView>;
    async fn update_person(
        &self,
        actor: &Actor,
        id: Uuid,
        input: &PersonInput,
    ) -> StoreResult<PersonView>;
    async fn person(&self, actor: &Actor, id: Uuid) -> StoreResult<PersonView>;
    async fn list_persons(
        &self,
        actor: &Actor,
        query: &PersonQuery,
    ) -> StoreResult<Page<PersonView>>;
    async fn notify_movement(
        &self,
        actor: &Actor,
        input: &MovementInput,
    ) -> StoreResult<MovementView>;
    /// Notices sent by or to the actor's organisation, newest first.
    async fn movements(&self, actor: &Actor) -> StoreResult<Vec<MovementView>>;
    async fn acknowledge_movement(&self, actor: &Actor, id: Uuid) -> StoreResult<()>;
    /// Deletes records whose decision ended before `cutoff`, keeping only the audit entries.
    async fn purge_register(&self, actor: &Actor, cutoff: Date) -> StoreResult<u64>;
}

#[async_trait]
pub trait Store:
    GeoStore
    + OrganisationStore
    + ClusterStore
    + AccountStore
    + AuditStore
    + IncidentStore
    + StatisticsStore
    + ExchangeStore
    + RegisterStore
    + Send
    + Sync
{
    /// The engine's name, for logs and health.
    fn engine(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;
    /// Live events (JSON [`LiveEvent`]s) committed by any server process.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String>;
}
