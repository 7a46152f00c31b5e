//! What the cases share: the fixture geography, organisations, clusters, accounts and
//! incidents, reading helpers, and assertions on errors and on the audit log.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_domain::cluster::{
    Cluster, ClusterInput, ClusterKind, MembershipInput, RegulationInput, RotationTurn,
};
use lienhoan_domain::geo::{
    AdminLevel, AdminUnit, NewHistoricalUnit, SuccessionRecord, UnitRecord,
};
use lienhoan_domain::incident::{Incident, IncidentInput, Outcome, Status};
use lienhoan_domain::organisation::{OrgKind, Organisation, OrganisationInput};
use lienhoan_domain::stats::{Dimension, Figures};
use lienhoan_domain::validation::FieldError;
use time::macros::date;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    AdminUnitQuery, AdminUnitView, AuditQuery, AuditView, IncidentQuery, IncidentView, MemberView,
    Page, Statistics, StatisticsQuery, Store, StoreError, StoreResult,
};

// ---------------------------------------------------------------------------------------------
// Fixtures

/// The password of every fixture account.
pub const PASSWORD: &str = "Cụm-liên-hoàn-2018";
pub(super) const ADDRESS: &str = "127.0.0.1";

pub(super) fn unit_record(
    dataset: &str,
    level: AdminLevel,
    code: &str,
    name: &str,
    kind: &str,
    parent: Option<&str>,
) -> UnitRecord {
    UnitRecord {
        dataset: dataset.into(),
        level,
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        parent_code: parent.map(String::from),
    }
}

/// A few units of the 2024 and 2025 lists, as in `assets/geo/units.tsv`. Code 08773 is in both
/// datasets under different names: codes were reused after the reform.
pub fn geo_units() -> Vec<UnitRecord> {
    use AdminLevel::*;
    vec![
        unit_record("2024", Province, "08", "Tuyên Quang", "Tỉnh", None),
        unit_record("2024", District, "072", "Na Hang", "Huyện", Some("08")),
        unit_record("2024", Commune, "02275", "Sơn Phú", "Xã", Some("072")),
        unit_record("2024", District, "076", "Sơn Dương", "Huyện", Some("08")),
        unit_record("2024", Province, "26", "Vĩnh Phúc", "Tỉnh", None),
        unit_record("2024", District, "253", "Sông Lô", "Huyện", Some("26")),
        unit_record("2024", Commune, "08773", "Lãng Công", "Xã", Some("253")),
        unit_record("2025", Province, "08", "Tuyên Quang", "Tỉnh", None),
        unit_record("2025", Province, "25", "Phú Thọ", "Tỉnh", None),
        unit_record("2025", Commune, "02260", "Hồng Thái", "Xã", Some("08")),
        unit_record("2025", Commune, "08773", "Yên Lãng", "Xã", Some("25")),
    ]
}

/// Old → new pairs of the 2025 reform for [`geo_units`].
pub fn geo_successions() -> Vec<SuccessionRecord> {
    let pair = |level, old: &str, new: &str| SuccessionRecord {
        level,
        old_code: old.into(),
        new_code: new.into(),
    };
    vec![
        pair(AdminLevel::Province, "08", "08"),
        pair(AdminLevel::Province, "26", "25"),
        pair(AdminLevel::Commune, "02275", "02260"),
        pair(AdminLevel::Commune, "08773", "08773"),
    ]
}

/// The imported fixture units.
pub struct Geo {
    pub tuyen_quang: AdminUnit,
    pub na_hang: AdminUnit,
    pub son_phu: AdminUnit,
    pub son_duong: AdminUnit,
    pub vinh_phuc: AdminUnit,
    pub song_lo: AdminUnit,
    pub lang_cong: AdminUnit,
    pub tuyen_quang_2025: AdminUnit,
    pub phu_tho: AdminUnit,
    pub hong_thai: AdminUnit,
    pub yen_lang: AdminUnit,
}

pub async fn import_fixture_geo(store: &dyn Store) -> Geo {
    store
        .import_geo(&Actor::system(), &geo_units(), &geo_successions(), &|_| {})
        .await
        .expect("the fixture geography imports");
    let get = |dataset: &'static str, code: &'static str| async move {
        store
            .admin_unit_by_code(dataset, code)
            .await
            .unwrap_or_else(|e| panic!("unit {dataset}/{code}: {e:?}"))
    };
    Geo {
        tuyen_quang: get("2024", "08").await,
        na_hang: get("2024", "072").await,
        son_phu: get("2024", "02275").await,
        son_duong: get("2024", "076").await,
        vinh_phuc: get("2024", "26").await,
        song_lo: get("2024", "253").await,
        lang_cong: get("2024", "08773").await,
        tuyen_quang_2025: get("2025", "08").await,
        phu_tho: get("2025", "25").await,
        hong_thai: get("2025", "02260").await,
        yen_lang: get("2025", "08773").await,
    }
}

pub async fn organisation(store: &dyn Store, name: &str, unit: &AdminUnit) -> Organisation {
    store
        .create_organisation(
            &Actor::system(),
            &OrganisationInput {
                name: name.into(),
                kind: OrgKind::Police,
                admin_unit_id: unit.id,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("organisation {name}: {e:?}"))
}

pub(super) fn cluster_input(name: &str, founded_on: Date) -> ClusterInput {
    ClusterInput {
        name: name.into(),
        kind: ClusterKind::InterDistrict,
        founded_on,
        description: String::new(),
    }
}

pub async fn cluster(store: &dyn Store, name: &str, founded_on: Date) -> Cluster {
    store
        .create_cluster(&Actor::system(), &cluster_input(name, founded_on))
        .await
        .unwrap_or_else(|e| panic!("cluster {name}: {e:?}"))
}

pub(super) fn membership(
    org: &Organisation,
    joined_on: Date,
    left_on: Option<Date>,
) -> MembershipInput {
    MembershipInput {
        organisation_id: org.id,
        joined_on,
        left_on,
        note: String::new(),
    }
}

/// Adds a membership as the system; returns its id.
pub async fn join(
    store: &dyn Store,
    cluster: &Cluster,
    org: &Organisation,
    joined_on: Date,
    left_on: Option<Date>,
) -> Uuid {
    store
        .add_member(
            &Actor::system(),
            cluster.id,
            &membership(org, joined_on, left_on),
        )
        .await
        .unwrap_or_else(|e| panic!("{} joins {}: {e:?}", org.name, cluster.name))
        .id
}

pub(super) fn new_user(username: &str, org: Option<&Organisation>, role: Role) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("Cán bộ {username}"),
        password: PASSWORD.into(),
        organisation_id: org.map(|o| o.id),
        role,
    }
}

/// Creates an account (as the system) and logs in; returns the actor the login gives.
pub async fn user(
    store: &dyn Store,
    username: &str,
    org: Option<&Organisation>,
    role: Role,
) -> Actor {
    store
        .create_user(&Actor::system(), &new_user(username, org, role), false)
        .await
        .unwrap_or_else(|e| panic!("user {username}: {e:?}"));
    let session = store
        .login(username, PASSWORD, ADDRESS)
        .await
        .unwrap_or_else(|e| panic!("login {username}: {e:?}"));
    assert_eq!(session.actor.username, username);
    assert_eq!(session.actor.role, role);
    assert_eq!(session.actor.organisation_id, org.map(|o| o.id));
    session.actor
}

/// Today in Vietnam, as the store sees it.
pub fn today() -> Date {
    lienhoan_domain::format::local_date(OffsetDateTime::now_utc())
}

pub async fn audit_total(store: &dyn Store) -> i64 {
    store
        .audit_log(&Actor::system(), &AuditQuery::default())
        .await
        .expect("the system reads the audit log")
        .total
}

/// The whole audit log, newest first.
pub(super) async fn audit_all(store: &dyn Store) -> Vec<AuditView> {
    let page = store
        .audit_log(
            &Actor::system(),
            &AuditQuery {
                limit: crate::PAGE_MAX,
                ..AuditQuery::default()
            },
        )
        .await
        .expect("the system reads the audit log");
    assert!(
        page.total <= crate::PAGE_MAX,
        "the fixture log fits on one page"
    );
    assert_eq!(page.items.len() as i64, page.total);
    page.items
}

pub(super) async fn search(store: &dyn Store, query: AdminUnitQuery) -> Page<AdminUnitView> {
    store
        .search_admin_units(&query)
        .await
        .unwrap_or_else(|e| panic!("search {query:?}: {e:?}"))
}

pub(super) fn text_query(text: &str) -> AdminUnitQuery {
    AdminUnitQuery {
        text: Some(text.into()),
        ..AdminUnitQuery::default()
    }
}

pub(super) fn unit_ids(page: &Page<AdminUnitView>) -> Vec<Uuid> {
    page.items.iter().map(|v| v.unit.id).collect()
}

pub(super) fn unit_names(page: &Page<AdminUnitView>) -> Vec<String> {
    page.items.iter().map(|v| v.unit.name.clone()).collect()
}

pub(super) fn member_orgs(members: &[MemberView]) -> BTreeSet<Uuid> {
    members
        .iter()
        .map(|m| m.membership.organisation_id)
        .collect()
}

pub(super) fn set<const N: usize>(ids: [Uuid; N]) -> BTreeSet<Uuid> {
    ids.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Assertions on errors

#[track_caller]
pub(super) fn invalid<T: Debug>(result: StoreResult<T>, field: &str) -> Vec<FieldError> {
    match result {
        Err(StoreError::Invalid(errors)) => {
            assert!(
                errors.iter().any(|e| e.field == field),
                "expected an error on {field:?}, got {errors:?}"
            );
            errors
        }
        other => panic!("expected Invalid on {field:?}, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn invalid_key<T: Debug>(result: StoreResult<T>, field: &str, key: &str) {
    let errors = invalid(result, field);
    assert!(
        errors.iter().any(|e| e.field == field && e.key == key),
        "expected {key} on {field:?}, got {errors:?}"
    );
}

#[track_caller]
pub(super) fn forbidden<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::Forbidden)),
        "expected Forbidden, got {result:?}"
    );
}

#[track_caller]
pub(super) fn not_found<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

#[track_caller]
pub(super) fn hidden_or_forbidden<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound | StoreError::Forbidden)),
        "expected NotFound or Forbidden, got {result:?}"
    );
}

#[track_caller]
pub(super) fn conflict<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Conflict(e)) => assert_eq!(e.field, field, "{e:?}"),
        other => panic!("expected Conflict on {field:?}, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn bad_credentials<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::BadCredentials)),
        "expected BadCredentials, got {result:?}"
    );
}

pub(super) fn historical(code: &str, name: &str, parent: Option<&AdminUnit>) -> NewHistoricalUnit {
    NewHistoricalUnit {
        level: AdminLevel::Commune,
        code: code.into(),
        name: name.into(),
        kind: "Xã".into(),
        parent_id: parent.map(|p| p.id),
        valid_from: None,
        valid_to: date!(2019 - 12 - 31),
        successor_ids: Vec::new(),
        aliases: Vec::new(),
    }
}

pub(super) fn turn(org: &Organisation, starts_on: Date, ends_on: Date) -> RotationTurn {
    RotationTurn {
        organisation_id: org.id,
        starts_on,
        ends_on,
    }
}

pub(super) fn regulation(title: &str, signed_on: Date, signatories: &[&str]) -> RegulationInput {
    RegulationInput {
        title: title.into(),
        signed_on,
        signatories: signatories.iter().map(|s| s.to_string()).collect(),
        body: "Điều 1. Phạm vi điều chỉnh".into(),
    }
}

/// Runs one write and checks that it appended exactly one entry, with this action, by this
/// actor, chained to the entry before.
pub(super) async fn audited_once<T: Debug>(
    store: &dyn Store,
    actor: &Actor,
    action: &str,
    target_id: Option<Uuid>,
    write: impl Future<Output = StoreResult<T>>,
) -> T {
    let before = store
        .audit_log(&Actor::system(), &AuditQuery::default())
        .await
        .unwrap();
    let out = write
        .await
        .unwrap_or_else(|e| panic!("{action} should succeed: {e:?}"));
    let after = store
        .audit_log(&Actor::system(), &AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(
        after.total,
        before.total + 1,
        "{action} appends exactly one entry"
    );
    let entry = &after.items[0];
    assert_eq!(entry.action, action);
    assert_eq!(entry.actor_name, actor.username, "{action}");
    let actor_id = (actor.user_id != Uuid::nil()).then_some(actor.user_id);
    assert_eq!(entry.actor_id, actor_id, "{action}");
    if let Some(target) = target_id {
        assert_eq!(entry.target_id, Some(target), "{action}");
    }
    assert_eq!(entry.seq, before.total + 1, "{action}");
    if let Some(previous) = before.items.first() {
        assert_eq!(
            entry.prev_hash, previous.hash,
            "{action} chains to the entry before"
        );
    }
    out
}

/// Runs a write that must be refused and checks that the log did not grow.
pub(super) async fn refused<T: Debug>(
    store: &dyn Store,
    label: &str,
    write: impl Future<Output = StoreResult<T>>,
) {
    let before = audit_total(store).await;
    let result = write.await;
    assert!(
        result.is_err(),
        "{label}: expected a refusal, got {result:?}"
    );
    assert_eq!(
        audit_total(store).await,
        before,
        "{label} ({result:?}) appended to the audit log"
    );
}

// ---------------------------------------------------------------------------------------------
// Incident fixtures

/// Communes under the fixture districts, added for incidents: with them each district has two
/// communes (Na Hang: Sơn Phú, Thượng Giáp; Sơn Dương: Tú Thịnh, Hợp Thành; Sông Lô: Lãng
/// Công, Quang Yên), so a district organisation records in either and a commune organisation
/// only in its own.
pub fn incident_geo_units() -> Vec<UnitRecord> {
    use AdminLevel::*;
    vec![
        unit_record("2024", Commune, "02230", "Thượng Giáp", "Xã", Some("072")),
        unit_record("2024", Commune, "02560", "Tú Thịnh", "Xã", Some("076")),
        unit_record("2024", Commune, "02566", "Hợp Thành", "Xã", Some("076")),
        unit_record("2024", Commune, "08776", "Quang Yên", "Xã", Some("253")),
    ]
}

/// The fixture geography with the communes of [`incident_geo_units`].
pub struct IncidentGeo {
    pub geo: Geo,
    pub thuong_giap: AdminUnit,
    pub tu_thinh: AdminUnit,
    pub hop_thanh: AdminUnit,
    pub quang_yen: AdminUnit,
}

pub async fn import_incident_geo(store: &dyn Store) -> IncidentGeo {
    let geo = import_fixture_geo(store).await;
    store
        .import_geo(&Actor::system(), &incident_geo_units(), &[], &|_| {})
        .await
        .expect("the incident communes import");
    let get = |code: &'static str| async move {
        store
            .admin_unit_by_code("2024", code)
            .await
            .unwrap_or_else(|e| panic!("unit 2024/{code}: {e:?}"))
    };
    IncidentGeo {
        geo,
        thuong_giap: get("02230").await,
        tu_thinh: get("02560").await,
        hop_thanh: get("02566").await,
        quang_yen: get("08776").await,
    }
}

/// An instant given as Vietnamese local time.
pub fn vn_time(day: Date, hour: u8, minute: u8) -> OffsetDateTime {
    day.with_hms(hour, minute, 0)
        .expect("a valid time of day")
        .assume_offset(lienhoan_domain::format::VIETNAM_OFFSET)
}

/// A plain incident: reported an hour after it occurred, nothing counted, no outcome.
pub fn incident_input(
    commune: &AdminUnit,
    occurred_at: OffsetDateTime,
    category: &str,
) -> IncidentInput {
    IncidentInput {
        commune_id: commune.id,
        place: String::new(),
        latitude: None,
        longitude: None,
        occurred_at,
        reported_at: occurred_at + Duration::hours(1),
        category: category.into(),
        suspects: 0,
        victims: 0,
        deaths: 0,
        injured: 0,
        damage_vnd: 0,
        narrative: String::new(),
        status: Status::Received,
        outcome: Outcome::None,
        outcome_people: 0,
        cross_border: false,
        shared: None,
    }
}

/// Records an incident that must be accepted.
pub async fn record_incident(
    store: &dyn Store,
    actor: &Actor,
    org: &Organisation,
    input: &IncidentInput,
) -> Incident {
    store
        .create_incident(actor, org.id, input)
        .await
        .unwrap_or_else(|e| panic!("{} records {input:?}: {e:?}", actor.username))
}

/// Every incident the system sees that matches `query`, page by page, newest first.
pub(super) async fn all_incidents(store: &dyn Store, query: IncidentQuery) -> Vec<IncidentView> {
    let mut items = Vec::new();
    loop {
        let page = store
            .list_incidents(
                &Actor::system(),
                &IncidentQuery {
                    limit: crate::PAGE_MAX,
                    offset: items.len() as i64,
                    ..query.clone()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("list {query:?}: {e:?}"));
        let done = page.items.is_empty();
        items.extend(page.items);
        // A capped total is a lower bound: a search's cap can end at the page it counted.
        if done || !page.total_capped && items.len() as i64 >= page.total {
            assert!(!page.total_capped, "{query:?}: counted more than it listed");
            assert_eq!(items.len() as i64, page.total, "{query:?}");
            return items;
        }
    }
}

pub(super) fn incident_ids(items: &[IncidentView]) -> BTreeSet<Uuid> {
    items.iter().map(|v| v.incident.id).collect()
}

/// Figures in the order of [`Figures::MEASURES`]: incidents, people prosecuted, people
/// sanctioned, deaths, injured, suspects, victims, damage.
pub(super) fn fig(values: [i64; 8]) -> Figures {
    Figures::from_values(values)
}

pub(super) fn statistics_query(
    cluster: &Cluster,
    from: Date,
    to: Date,
    group_by: &[Dimension],
) -> StatisticsQuery {
    StatisticsQuery {
        cluster_id: Some(cluster.id),
        from,
        to,
        group_by: group_by.to_vec(),
        compare_previous_year: false,
    }
}

/// Statistics that must be answered.
pub(super) async fn statistics_of(
    store: &dyn Store,
    actor: &Actor,
    query: &StatisticsQuery,
) -> Statistics {
    store
        .statistics(actor, query)
        .await
        .unwrap_or_else(|e| panic!("statistics {query:?}: {e:?}"))
}

/// The rows of an answer by their keys; also checks that no key appears twice and that every
/// row has one key and one label per dimension.
pub(super) fn figures_by_key(stats: &Statistics) -> BTreeMap<Vec<String>, Figures> {
    let mut rows = BTreeMap::new();
    for row in &stats.rows {
        assert_eq!(row.keys.len(), stats.group_by.len(), "{row:?}");
        assert_eq!(row.labels.len(), stats.group_by.len(), "{row:?}");
        let earlier = rows.insert(row.keys.clone(), row.figures);
        assert!(earlier.is_none(), "key {:?} appears twice", row.keys);
    }
    rows
}
