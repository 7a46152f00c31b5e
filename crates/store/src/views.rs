//! Read models: domain records joined with the names a reader needs to see.

use lienhoan_domain::access::Role;
use lienhoan_domain::audit::AuditEntry;
use lienhoan_domain::cluster::{BoardMember, Cluster, Membership, RegulationVersion, RotationTurn};
use lienhoan_domain::geo::{AdminLevel, AdminUnit};
use lienhoan_domain::organisation::Organisation;
use serde::Serialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many rows match, counted up to [`COUNT_CAP`] rows past the page's start
    /// ([`SEARCH_COUNT_CAP`] for a search of incidents' text).
    pub total: i64,
    /// More rows match than `total`: an exact count of a national list would read every row
    /// on every page, so lists stop counting.
    pub total_capped: bool,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            total: 0,
            total_capped: false,
        }
    }
}

/// How many rows past a page's start a list counts at most.
pub const COUNT_CAP: i64 = 1_000;

/// How many rows past a page's start a search of incidents' words counts at most. Each match
/// counted is a record's text tested: at 10 million incidents an officer's search for a word
/// in one narrative of five tested some 3,000 entries to count 500 matches, where its page
/// needed 250. Past 200 matches, searchers narrow the words or the dates rather than page on.
pub const SEARCH_COUNT_CAP: i64 = 200;

pub const PAGE_MAX: i64 = 200;

#[derive(Debug, Clone, Default)]
pub struct AdminUnitQuery {
    /// Matched against names and aliases, ignoring diacritics and case.
    pub text: Option<String>,
    pub dataset: Option<String>,
    pub level: Option<AdminLevel>,
    pub parent_id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdminUnitView {
    #[serde(flatten)]
    pub unit: AdminUnit,
    pub full_name: String,
    /// "Huyện Na Hang, Tỉnh Tuyên Quang" for a unit below them.
    pub parent_path: String,
    pub successors: Vec<UnitRef>,
    pub predecessors: Vec<UnitRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitRef {
    pub id: Uuid,
    pub dataset: String,
    pub code: String,
    pub full_name: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct GeoImportSummary {
    pub units_added: u64,
    pub units_unchanged: u64,
    pub successions_added: u64,
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationQuery {
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganisationView {
    #[serde(flatten)]
    pub organisation: Organisation,
    pub admin_unit_name: String,
    pub admin_unit_path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterSummary {
    #[serde(flatten)]
    pub cluster: Cluster,
    pub member_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    #[serde(flatten)]
    pub membership: Membership,
    pub organisation_name: String,
    pub admin_unit_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardMemberView {
    #[serde(flatten)]
    pub member: BoardMember,
    pub organisation_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RotationTurnView {
    #[serde(flatten)]
    pub turn: RotationTurn,
    pub organisation_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterDetail {
    #[serde(flatten)]
    pub cluster: Cluster,
    /// Every membership, past and present, in joining order.
    pub members: Vec<MemberView>,
    pub board: Vec<BoardMemberView>,
    pub rotation: Vec<RotationTurnView>,
    /// Newest version first.
    pub regulations: Vec<RegulationVersion>,
    /// Whether the actor's organisation is or was a member.
    pub actor_is_member: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    /// Shown once; only its hash is stored.
    pub token: String,
    pub actor: lienhoan_domain::access::Actor,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor_name: Option<String>,
    pub target_id: Option<Uuid>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub limit: i64,
    pub offset: i64,
}

pub type AuditView = AuditEntry;

#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub organisation_id: Option<Uuid>,
    pub cluster_id: Option<Uuid>,
    pub category: Option<String>,
    pub status: Option<lienhoan_domain::incident::Status>,
    pub outcome: Option<lienhoan_domain::incident::Outcome>,
    /// Matched against place and narrative, ignoring diacritics.
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: lienhoan_domain::incident::Incident,
    pub organisation_name: String,
    pub commune_name: String,
    /// Shared with the clusters the owner belonged to on the day (cross-border by default).
    pub shared: bool,
}

#[derive(Debug, Clone)]
pub struct StatisticsQuery {
    /// A cluster's members (each counted for the days it was a member), or, when absent, the
    /// whole country (for those who see everything).
    pub cluster_id: Option<Uuid>,
    pub from: Date,
    pub to: Date,
    pub group_by: Vec<lienhoan_domain::stats::Dimension>,
    pub compare_previous_year: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatisticsRow {
    /// One value per grouping dimension, in the order asked.
    pub keys: Vec<String>,
    /// Display labels for the keys (organisation and province names; other keys as they are).
    pub labels: Vec<String>,
    pub figures: lienhoan_domain::stats::Figures,
    pub previous: Option<lienhoan_domain::stats::Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Statistics {
    pub cluster_id: Option<Uuid>,
    pub from: Date,
    pub to: Date,
    pub group_by: Vec<lienhoan_domain::stats::Dimension>,
    pub rows: Vec<StatisticsRow>,
    pub total: lienhoan_domain::stats::Figures,
    pub previous_total: Option<lienhoan_domain::stats::Figures>,
    pub previous_from: Option<Date>,
    pub previous_to: Option<Date>,
}

/// A notification for the open browsers of the recipient organisations' users.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct LiveEvent {
    /// `incident`, `bulletin`, `request` or `movement`.
    pub kind: String,
    pub recipients: Vec<Uuid>,
    pub title: String,
    /// The page that shows it.
    pub link: String,
}

#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub sent: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientView {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub answer: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub answered_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: Uuid,
    pub kind: lienhoan_domain::exchange::MessageKind,
    pub cluster_id: Uuid,
    pub cluster_name: String,
    pub sender_organisation_id: Uuid,
    pub sender_organisation_name: String,
    pub title: String,
    pub body: String,
    pub deadline: Option<Date>,
    pub incident_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub recipients: Vec<RecipientView>,
    /// A request past its deadline that the actor's organisation (or, for the sender, some
    /// addressee) has not answered.
    pub overdue: bool,
    pub read: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub text: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    #[serde(flatten)]
    pub person: lienhoan_domain::register::PersonInput,
    pub home_commune_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MovementView {
    pub id: Uuid,
    pub person_id: Uuid,
    pub person_name: String,
    pub from_organisation_id: Uuid,
    pub from_organisation_name: String,
    pub to_organisation_id: Uuid,
    pub to_organisation_name: String,
    pub moved_on: Date,
    pub destination: String,
    pub note: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
}
