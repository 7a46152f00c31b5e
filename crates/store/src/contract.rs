//! The contract every engine must pass: one behaviour, whatever the database.
//!
//! An engine's test file supplies an async function that makes a fresh, migrated, empty store
//! for one case, and expands [`contract_tests!`](crate::contract_tests) with it:
//!
//! ```ignore
//! async fn fresh(case: &'static str) -> Option<lienhoan_store::contract::Fresh> {
//!     // open a new database for `case`, migrate it, wrap it;
//!     // `None` skips the case (print why on stderr).
//! }
//! lienhoan_store::contract_tests!(fresh);
//! ```
//!
//! The macro makes one `#[tokio::test]` per case, so a failure names its case. Each case is a
//! public async function here, taking `&dyn Store` (or an `Arc` for the cases that spawn tasks).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_domain::cluster::{
    BoardMemberInput, BoardRole, Cluster, ClusterInput, ClusterKind, MembershipInput,
    RegulationInput, RotationTurn,
};
use lienhoan_domain::geo::{
    AdminLevel, AdminUnit, NewHistoricalUnit, SuccessionRecord, UnitRecord,
};
use lienhoan_domain::organisation::{OrgKind, Organisation, OrganisationInput};
use lienhoan_domain::text::sort_key;
use lienhoan_domain::validation::FieldError;
use time::macros::date;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    AdminUnitQuery, AdminUnitView, AuditQuery, AuditView, MemberView, OrganisationQuery, Page,
    Store, StoreError, StoreResult,
};

// ---------------------------------------------------------------------------------------------
// Harness

/// A fresh store for one case, with what to do after the case passed (drop the database,
/// remove the file). After a failure the database is left for a look.
pub struct Fresh {
    store: Arc<dyn Store>,
    teardown: Option<BoxFuture<'static, ()>>,
}

impl Fresh {
    pub fn new(store: impl Store + 'static) -> Self {
        Self {
            store: Arc::new(store),
            teardown: None,
        }
    }

    /// Runs after the case passed and the store was dropped.
    pub fn with_teardown(mut self, teardown: impl Future<Output = ()> + Send + 'static) -> Self {
        self.teardown = Some(Box::pin(teardown));
        self
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn shared(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub async fn finish(self) {
        let Self { store, teardown } = self;
        drop(store);
        if let Some(teardown) = teardown {
            teardown.await;
        }
    }
}

/// Expands to one `#[tokio::test]` per contract case. The argument is the path of an
/// `async fn(&'static str) -> Option<Fresh>` that makes a fresh, migrated, empty store for the
/// named case, or returns `None` to skip it. The calling crate must depend on `tokio`.
#[macro_export]
macro_rules! contract_tests {
    ($fresh:path) => {
        $crate::contract_tests!(@borrowed $fresh;
            geo_import_is_idempotent,
            geo_import_is_all_or_nothing,
            geo_search_ignores_diacritics_and_case,
            geo_aliases_are_searchable,
            geo_views_show_successions,
            historical_units_and_their_validation,
            organisations_sort_in_vietnamese_order,
            organisations_search_and_validation,
            clusters_are_created_by_admins_only,
            membership_over_time,
            membership_validation,
            membership_changes,
            cluster_scope_follows_membership,
            cluster_editing_rights,
            user_scope_follows_organisation,
            board_members_come_from_member_organisations,
            rotation_schedules,
            regulation_versions,
            accounts_and_sessions,
            login_failures_are_rate_limited,
            disabling_and_new_passwords_end_sessions,
            user_validation,
            every_successful_write_is_audited_once,
            rejected_writes_are_not_audited,
            audit_log_is_for_auditors_and_admins,
            audit_log_filters,
        );
        $crate::contract_tests!(@shared $fresh;
            concurrent_writes_keep_one_chain,
            verify_during_writes_sees_a_whole_chain,
            concurrent_regulations_get_distinct_versions,
            concurrent_overlapping_joins_admit_one,
        );
    };
    (@borrowed $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(fresh) = $fresh(stringify!($case)).await else {
                    return;
                };
                $crate::contract::$case(fresh.store()).await;
                fresh.finish().await;
            }
        )*
    };
    (@shared $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(fresh) = $fresh(stringify!($case)).await else {
                    return;
                };
                $crate::contract::$case(fresh.shared()).await;
                fresh.finish().await;
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// The password of every fixture account.
pub const PASSWORD: &str = "Cụm-liên-hoàn-2018";
const ADDRESS: &str = "127.0.0.1";

fn unit_record(
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

fn cluster_input(name: &str, founded_on: Date) -> ClusterInput {
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

fn membership(org: &Organisation, joined_on: Date, left_on: Option<Date>) -> MembershipInput {
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

fn new_user(username: &str, org: Option<&Organisation>, role: Role) -> NewUser {
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
async fn audit_all(store: &dyn Store) -> Vec<AuditView> {
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

async fn search(store: &dyn Store, query: AdminUnitQuery) -> Page<AdminUnitView> {
    store
        .search_admin_units(&query)
        .await
        .unwrap_or_else(|e| panic!("search {query:?}: {e:?}"))
}

fn text_query(text: &str) -> AdminUnitQuery {
    AdminUnitQuery {
        text: Some(text.into()),
        ..AdminUnitQuery::default()
    }
}

fn unit_ids(page: &Page<AdminUnitView>) -> Vec<Uuid> {
    page.items.iter().map(|v| v.unit.id).collect()
}

fn unit_names(page: &Page<AdminUnitView>) -> Vec<String> {
    page.items.iter().map(|v| v.unit.name.clone()).collect()
}

fn member_orgs(members: &[MemberView]) -> BTreeSet<Uuid> {
    members
        .iter()
        .map(|m| m.membership.organisation_id)
        .collect()
}

fn set<const N: usize>(ids: [Uuid; N]) -> BTreeSet<Uuid> {
    ids.into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Assertions on errors

#[track_caller]
fn invalid<T: Debug>(result: StoreResult<T>, field: &str) -> Vec<FieldError> {
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
fn invalid_key<T: Debug>(result: StoreResult<T>, field: &str, key: &str) {
    let errors = invalid(result, field);
    assert!(
        errors.iter().any(|e| e.field == field && e.key == key),
        "expected {key} on {field:?}, got {errors:?}"
    );
}

#[track_caller]
fn forbidden<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::Forbidden)),
        "expected Forbidden, got {result:?}"
    );
}

#[track_caller]
fn not_found<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

#[track_caller]
fn hidden_or_forbidden<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound | StoreError::Forbidden)),
        "expected NotFound or Forbidden, got {result:?}"
    );
}

#[track_caller]
fn conflict<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::Conflict(e)) => assert_eq!(e.field, field, "{e:?}"),
        other => panic!("expected Conflict on {field:?}, got {other:?}"),
    }
}

#[track_caller]
fn bad_credentials<T: Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::BadCredentials)),
        "expected BadCredentials, got {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Geography

pub async fn geo_import_is_idempotent(store: &dyn Store) {
    let system = Actor::system();
    let units = geo_units();
    let successions = geo_successions();
    assert_eq!(
        audit_total(store).await,
        0,
        "a fresh store has no audit entries"
    );

    let first = store
        .import_geo(&system, &units, &successions, &|_| {})
        .await
        .unwrap();
    assert_eq!(first.units_added, units.len() as u64);
    assert_eq!(first.units_unchanged, 0);
    assert_eq!(first.successions_added, successions.len() as u64);
    assert_eq!(audit_total(store).await, 1, "one import, one entry");

    let second = store
        .import_geo(&system, &units, &successions, &|_| {})
        .await
        .unwrap();
    assert_eq!(second.units_added, 0);
    assert_eq!(second.units_unchanged, units.len() as u64);
    assert_eq!(second.successions_added, 0);
    assert_eq!(
        audit_total(store).await,
        1,
        "an import that changes nothing is not audited"
    );
    let all = search(store, AdminUnitQuery::default()).await;
    assert_eq!(all.total, units.len() as i64, "no unit was imported twice");

    // A list with one more unit adds just that one.
    let mut more = units.clone();
    more.push(unit_record(
        "2024",
        AdminLevel::District,
        "071",
        "Lâm Bình",
        "Huyện",
        Some("08"),
    ));
    let third = store
        .import_geo(&system, &more, &successions, &|_| {})
        .await
        .unwrap();
    assert_eq!(third.units_added, 1);
    assert_eq!(third.units_unchanged, units.len() as u64);
    assert_eq!(audit_total(store).await, 2);
    let lam_binh = store.admin_unit_by_code("2024", "071").await.unwrap();
    let tuyen_quang = store.admin_unit_by_code("2024", "08").await.unwrap();
    assert_eq!(lam_binh.parent_id, Some(tuyen_quang.id));
    assert_eq!(store.verify_audit(&|_| {}).await.unwrap(), Ok(2));
}

pub async fn geo_import_is_all_or_nothing(store: &dyn Store) {
    let system = Actor::system();
    let mut units = geo_units();
    units.push(unit_record(
        "2024",
        AdminLevel::Commune,
        "99999",
        "Không Có",
        "Xã",
        Some("999"),
    ));
    invalid(
        store.import_geo(&system, &units, &[], &|_| {}).await,
        "parent_code",
    );
    not_found(store.admin_unit_by_code("2024", "08").await);
    assert_eq!(search(store, AdminUnitQuery::default()).await.total, 0);

    let mut successions = geo_successions();
    successions.push(SuccessionRecord {
        level: AdminLevel::Commune,
        old_code: "02275".into(),
        new_code: "77777".into(),
    });
    assert!(
        store
            .import_geo(&system, &geo_units(), &successions, &|_| {})
            .await
            .is_err(),
        "a succession to an unknown unit is refused"
    );
    assert_eq!(search(store, AdminUnitQuery::default()).await.total, 0);
    assert_eq!(audit_total(store).await, 0);

    let coordinator = Actor {
        role: Role::Coordinator,
        ..Actor::system()
    };
    forbidden(
        store
            .import_geo(&coordinator, &geo_units(), &geo_successions(), &|_| {})
            .await,
    );
    assert_eq!(search(store, AdminUnitQuery::default()).await.total, 0);
}

pub async fn geo_search_ignores_diacritics_and_case(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    for text in [
        "nà hang",
        "NA HANG",
        "Na Hang",
        "na",
        "  na   hang ",
        "huyện nà",
    ] {
        let page = search(store, text_query(text)).await;
        assert!(
            unit_ids(&page).contains(&g.na_hang.id),
            "{text:?} finds Na Hang: {:?}",
            unit_names(&page)
        );
        assert_eq!(page.total, page.items.len() as i64);
    }
    let page = search(store, text_query("đồng")).await;
    assert_eq!(page.total, 0, "{:?}", unit_names(&page));
    let page = search(store, text_query("son")).await;
    assert_eq!(
        page.items
            .iter()
            .map(|v| v.unit.id)
            .collect::<BTreeSet<_>>(),
        set([g.son_duong.id, g.son_phu.id, g.song_lo.id]),
        "'son' finds Sơn Dương, Sơn Phú and Sông Lô"
    );
    // LIKE wildcards in the query are matched literally.
    for text in ["%", "_", "n_ hang", "\\"] {
        assert_eq!(search(store, text_query(text)).await.total, 0, "{text:?}");
    }

    // The same code names different communes in different datasets.
    let lang = search(store, text_query("lãng")).await;
    assert_eq!(
        lang.items
            .iter()
            .map(|v| v.unit.id)
            .collect::<BTreeSet<_>>(),
        set([g.lang_cong.id, g.yen_lang.id])
    );
    let lang_2025 = search(
        store,
        AdminUnitQuery {
            dataset: Some("2025".into()),
            ..text_query("lang")
        },
    )
    .await;
    assert_eq!(unit_ids(&lang_2025), vec![g.yen_lang.id]);
    assert_eq!(lang_2025.total, 1);

    // Level filter: provinces, in Vietnamese order.
    let provinces = search(
        store,
        AdminUnitQuery {
            level: Some(AdminLevel::Province),
            ..AdminUnitQuery::default()
        },
    )
    .await;
    assert_eq!(provinces.total, 4);
    assert_eq!(
        unit_names(&provinces),
        vec!["Phú Thọ", "Tuyên Quang", "Tuyên Quang", "Vĩnh Phúc"]
    );
    assert!(
        provinces
            .items
            .iter()
            .all(|v| v.unit.level == AdminLevel::Province)
    );

    // Parent filter.
    let districts = search(
        store,
        AdminUnitQuery {
            parent_id: Some(g.tuyen_quang.id),
            ..AdminUnitQuery::default()
        },
    )
    .await;
    assert_eq!(unit_names(&districts), vec!["Na Hang", "Sơn Dương"]);
    let under_2025 = search(
        store,
        AdminUnitQuery {
            parent_id: Some(g.tuyen_quang_2025.id),
            level: Some(AdminLevel::Commune),
            ..AdminUnitQuery::default()
        },
    )
    .await;
    assert_eq!(unit_ids(&under_2025), vec![g.hong_thai.id]);
    let none = search(
        store,
        AdminUnitQuery {
            parent_id: Some(g.tuyen_quang.id),
            level: Some(AdminLevel::Commune),
            ..AdminUnitQuery::default()
        },
    )
    .await;
    assert_eq!(none.total, 0, "communes sit under districts in 2024");

    // Paging keeps the total.
    let communes = AdminUnitQuery {
        level: Some(AdminLevel::Commune),
        limit: 1,
        ..AdminUnitQuery::default()
    };
    let first = search(store, communes.clone()).await;
    let second = search(
        store,
        AdminUnitQuery {
            offset: 1,
            ..communes
        },
    )
    .await;
    assert_eq!(first.total, 4);
    assert_eq!(second.total, 4);
    assert_eq!(first.items.len(), 1);
    assert_eq!(second.items.len(), 1);
    assert_ne!(first.items[0].unit.id, second.items[0].unit.id);
}

pub async fn geo_aliases_are_searchable(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    // An alias unrelated to the name, so only the alias can match.
    assert_eq!(search(store, text_query("bach luu")).await.total, 0);
    let before = audit_total(store).await;
    store
        .add_unit_alias(&Actor::system(), g.lang_cong.id, "Bạch Lưu")
        .await
        .unwrap();
    assert_eq!(audit_total(store).await, before + 1);
    for text in ["bach luu", "BẠCH LƯU", "lưu"] {
        let page = search(store, text_query(text)).await;
        assert_eq!(unit_ids(&page), vec![g.lang_cong.id], "{text:?}");
    }
    // Still found by its name.
    let page = search(store, text_query("lãng công")).await;
    assert_eq!(unit_ids(&page), vec![g.lang_cong.id]);
    let view = store.admin_unit(g.lang_cong.id).await.unwrap();
    assert_eq!(view.unit.aliases, vec!["Bạch Lưu".to_string()]);
    assert_eq!(view.unit.name, "Lãng Công");

    invalid(
        store
            .add_unit_alias(&Actor::system(), g.lang_cong.id, "  ")
            .await,
        "alias",
    );
    not_found(
        store
            .add_unit_alias(&Actor::system(), Uuid::now_v7(), "Đâu Đó")
            .await,
    );
    let coordinator = Actor {
        role: Role::Coordinator,
        ..Actor::system()
    };
    forbidden(
        store
            .add_unit_alias(&coordinator, g.na_hang.id, "Nà Hang")
            .await,
    );
    assert!(
        store
            .admin_unit(g.na_hang.id)
            .await
            .unwrap()
            .unit
            .aliases
            .is_empty()
    );
}

pub async fn geo_views_show_successions(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let son_phu = store.admin_unit(g.son_phu.id).await.unwrap();
    assert_eq!(son_phu.full_name, "Xã Sơn Phú");
    assert_eq!(son_phu.parent_path, "Huyện Na Hang, Tỉnh Tuyên Quang");
    assert_eq!(son_phu.unit.dataset, "2024");
    assert_eq!(son_phu.unit.valid_to, Some(date!(2025 - 06 - 30)));
    assert_eq!(son_phu.unit.valid_from, None);
    assert_eq!(son_phu.successors.len(), 1);
    assert_eq!(son_phu.successors[0].id, g.hong_thai.id);
    assert_eq!(son_phu.successors[0].dataset, "2025");
    assert_eq!(son_phu.successors[0].code, "02260");
    assert_eq!(son_phu.successors[0].full_name, "Xã Hồng Thái");
    assert!(son_phu.predecessors.is_empty());

    let hong_thai = store.admin_unit(g.hong_thai.id).await.unwrap();
    assert_eq!(hong_thai.parent_path, "Tỉnh Tuyên Quang");
    assert_eq!(hong_thai.unit.valid_from, Some(date!(2025 - 07 - 01)));
    assert_eq!(
        hong_thai
            .predecessors
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        vec![g.son_phu.id]
    );
    assert!(hong_thai.successors.is_empty());

    let yen_lang = store.admin_unit(g.yen_lang.id).await.unwrap();
    assert_eq!(
        yen_lang
            .predecessors
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        vec![g.lang_cong.id]
    );
    assert_eq!(yen_lang.predecessors[0].code, "08773");
    assert_eq!(yen_lang.predecessors[0].dataset, "2024");
    let phu_tho = store.admin_unit(g.phu_tho.id).await.unwrap();
    assert_eq!(
        phu_tho
            .predecessors
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        vec![g.vinh_phuc.id]
    );
    let na_hang = store.admin_unit(g.na_hang.id).await.unwrap();
    assert_eq!(na_hang.full_name, "Huyện Na Hang");
    assert_eq!(na_hang.parent_path, "Tỉnh Tuyên Quang");
    assert!(na_hang.successors.is_empty() && na_hang.predecessors.is_empty());

    assert_eq!(
        store
            .admin_unit_by_code("2024", "08773")
            .await
            .unwrap()
            .name,
        "Lãng Công"
    );
    assert_eq!(
        store
            .admin_unit_by_code("2025", "08773")
            .await
            .unwrap()
            .name,
        "Yên Lãng"
    );
    not_found(store.admin_unit_by_code("2025", "02275").await);
    not_found(store.admin_unit(Uuid::now_v7()).await);
}

fn historical(code: &str, name: &str, parent: Option<&AdminUnit>) -> NewHistoricalUnit {
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

pub async fn historical_units_and_their_validation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let start = audit_total(store).await;

    let input = NewHistoricalUnit {
        valid_from: Some(date!(2008 - 08 - 01)),
        successor_ids: vec![g.lang_cong.id],
        aliases: vec!["Cao Dai".into()],
        ..historical("09001", "Cao Đại", Some(&g.song_lo))
    };
    let added = store.add_historical_unit(&system, &input).await.unwrap();
    assert_eq!(added.dataset, "historical");
    assert_eq!(added.code, "09001");
    assert_eq!(added.name, "Cao Đại");
    assert_eq!(added.level, AdminLevel::Commune);
    assert_eq!(added.parent_id, Some(g.song_lo.id));
    assert_eq!(added.valid_from, Some(date!(2008 - 08 - 01)));
    assert_eq!(added.valid_to, Some(date!(2019 - 12 - 31)));
    assert_eq!(audit_total(store).await, start + 1);

    let view = store.admin_unit(added.id).await.unwrap();
    assert_eq!(view.unit, added);
    assert_eq!(view.parent_path, "Huyện Sông Lô, Tỉnh Vĩnh Phúc");
    assert_eq!(
        view.successors.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![g.lang_cong.id]
    );
    let lang_cong = store.admin_unit(g.lang_cong.id).await.unwrap();
    assert_eq!(
        lang_cong
            .predecessors
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        vec![added.id]
    );
    assert_eq!(
        lang_cong
            .successors
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        vec![g.yen_lang.id],
        "the historical predecessor does not disturb the 2025 successor"
    );
    assert_eq!(
        unit_ids(&search(store, text_query("cao đại")).await),
        vec![added.id]
    );
    let historical_only = search(
        store,
        AdminUnitQuery {
            dataset: Some("historical".into()),
            ..AdminUnitQuery::default()
        },
    )
    .await;
    assert_eq!(unit_ids(&historical_only), vec![added.id]);

    // A province needs no parent.
    let ha_tuyen = NewHistoricalUnit {
        level: AdminLevel::Province,
        kind: "Tỉnh".into(),
        valid_to: date!(1991 - 09 - 30),
        successor_ids: vec![g.tuyen_quang.id],
        ..historical("90", "Hà Tuyên", None)
    };
    let ha_tuyen = store.add_historical_unit(&system, &ha_tuyen).await.unwrap();
    assert_eq!(ha_tuyen.parent_id, None);
    assert_eq!(audit_total(store).await, start + 2);

    // Validation: each names its field and writes nothing.
    invalid(
        store
            .add_historical_unit(&system, &historical("09A02", "Việt Xuân", Some(&g.song_lo)))
            .await,
        "code",
    );
    invalid(
        store
            .add_historical_unit(&system, &historical("", "Việt Xuân", Some(&g.song_lo)))
            .await,
        "code",
    );
    invalid(
        store
            .add_historical_unit(
                &system,
                &NewHistoricalUnit {
                    valid_from: Some(date!(2021 - 01 - 01)),
                    valid_to: date!(2020 - 01 - 01),
                    ..historical("09002", "Việt Xuân", Some(&g.song_lo))
                },
            )
            .await,
        "valid_to",
    );
    invalid(
        store
            .add_historical_unit(&system, &historical("09002", " ", Some(&g.song_lo)))
            .await,
        "name",
    );
    invalid(
        store
            .add_historical_unit(&system, &historical("09002", "Việt Xuân", None))
            .await,
        "parent_id",
    );
    let unknown_parent = AdminUnit {
        id: Uuid::now_v7(),
        ..g.song_lo.clone()
    };
    invalid(
        store
            .add_historical_unit(
                &system,
                &historical("09002", "Việt Xuân", Some(&unknown_parent)),
            )
            .await,
        "parent_id",
    );
    invalid(
        store
            .add_historical_unit(
                &system,
                &historical("09002", "Việt Xuân", Some(&g.lang_cong)),
            )
            .await,
        "parent_id",
    );
    invalid(
        store
            .add_historical_unit(
                &system,
                &NewHistoricalUnit {
                    successor_ids: vec![g.yen_lang.id, Uuid::now_v7()],
                    ..historical("09002", "Việt Xuân", Some(&g.song_lo))
                },
            )
            .await,
        "successor_ids",
    );
    assert_eq!(
        search(store, text_query("việt xuân")).await.total,
        0,
        "a refused unit is not stored, not even in part"
    );
    let yen_lang = store.admin_unit(g.yen_lang.id).await.unwrap();
    assert_eq!(
        yen_lang.predecessors.len(),
        1,
        "no succession was left behind"
    );
    conflict(
        store
            .add_historical_unit(&system, &historical("09001", "Khác", Some(&g.song_lo)))
            .await,
        "code",
    );
    let coordinator = Actor {
        role: Role::Coordinator,
        ..Actor::system()
    };
    forbidden(
        store
            .add_historical_unit(
                &coordinator,
                &historical("09002", "Việt Xuân", Some(&g.song_lo)),
            )
            .await,
    );
    assert_eq!(
        audit_total(store).await,
        start + 2,
        "refusals are not audited"
    );

    // The code refused with an unknown successor was not taken.
    store
        .add_historical_unit(&system, &historical("09002", "Việt Xuân", Some(&g.song_lo)))
        .await
        .unwrap();
    assert_eq!(audit_total(store).await, start + 3);
}

// ---------------------------------------------------------------------------------------------
// 2. Organisations

pub async fn organisations_sort_in_vietnamese_order(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let names = [
        "Công an xã Đồng Quế",
        "UBND xã Lãng Công",
        "Công an xã Cao Phong",
        "Công an xã Ân Thi",
        "Công an xã Dương Thành",
        "Công an huyện Na Hang",
        "Công an xã An Hòa",
        "Công an xã Ăn Thạch",
    ];
    for name in names {
        organisation(store, name, &g.lang_cong).await;
    }
    let expected = [
        "Công an huyện Na Hang",
        "Công an xã An Hòa",
        "Công an xã Ăn Thạch",
        "Công an xã Ân Thi",
        "Công an xã Cao Phong",
        "Công an xã Dương Thành",
        "Công an xã Đồng Quế",
        "UBND xã Lãng Công",
    ];
    let mut by_key = names.to_vec();
    by_key.sort_by_key(|n| sort_key(n));
    assert_eq!(
        by_key, expected,
        "the fixture agrees with the domain's order"
    );

    let page = store
        .list_organisations(&OrganisationQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, names.len() as i64);
    let listed: Vec<&str> = page
        .items
        .iter()
        .map(|o| o.organisation.name.as_str())
        .collect();
    assert_eq!(listed, expected);

    let second_page = store
        .list_organisations(&OrganisationQuery {
            limit: 3,
            offset: 3,
            ..OrganisationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(second_page.total, names.len() as i64);
    let listed: Vec<&str> = second_page
        .items
        .iter()
        .map(|o| o.organisation.name.as_str())
        .collect();
    assert_eq!(listed, expected[3..6]);

    // A renamed organisation moves to its new place.
    let moved = page.items[0].organisation.clone();
    store
        .update_organisation(
            &Actor::system(),
            moved.id,
            &OrganisationInput {
                name: "Đồn Công an Xuân Lập".into(),
                kind: moved.kind,
                admin_unit_id: g.na_hang.id,
            },
        )
        .await
        .unwrap();
    let page = store
        .list_organisations(&OrganisationQuery::default())
        .await
        .unwrap();
    let listed: Vec<&str> = page
        .items
        .iter()
        .map(|o| o.organisation.name.as_str())
        .collect();
    assert_eq!(
        listed,
        [
            "Công an xã An Hòa",
            "Công an xã Ăn Thạch",
            "Công an xã Ân Thi",
            "Công an xã Cao Phong",
            "Công an xã Dương Thành",
            "Công an xã Đồng Quế",
            "Đồn Công an Xuân Lập",
            "UBND xã Lãng Công",
        ]
    );
}

pub async fn organisations_search_and_validation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let dong_que = organisation(store, "Công an xã Đồng Quế", &g.lang_cong).await;
    let cao_phong = organisation(store, "  Công an xã Cao Phong ", &g.lang_cong).await;
    assert_eq!(cao_phong.name, "Công an xã Cao Phong", "names are trimmed");
    let na_hang = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;

    let view = store.organisation(na_hang.id).await.unwrap();
    assert_eq!(view.organisation, na_hang);
    assert_eq!(view.admin_unit_name, "Huyện Na Hang");
    assert_eq!(view.admin_unit_path, "Huyện Na Hang, Tỉnh Tuyên Quang");
    not_found(store.organisation(Uuid::now_v7()).await);

    let find = |text: &'static str| async move {
        let page = store
            .list_organisations(&OrganisationQuery {
                text: Some(text.into()),
                ..OrganisationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, page.items.len() as i64);
        page.items
            .into_iter()
            .map(|o| o.organisation.id)
            .collect::<BTreeSet<_>>()
    };
    for text in ["dong que", "ĐỒNG QUẾ", "Đồng", "đông que"] {
        assert_eq!(find(text).await, set([dong_que.id]), "{text:?}");
    }
    assert_eq!(find("công an xã").await, set([dong_que.id, cao_phong.id]));
    assert_eq!(find("CONG AN").await.len(), 3);
    assert!(find("Sơn Dương").await.is_empty());
    assert!(
        find("%").await.is_empty(),
        "a wildcard is matched literally"
    );
    assert!(
        find("_").await.is_empty(),
        "a wildcard is matched literally"
    );

    let system = Actor::system();
    let input = |name: &str, unit: Uuid| OrganisationInput {
        name: name.into(),
        kind: OrgKind::PeoplesCommittee,
        admin_unit_id: unit,
    };
    invalid(
        store
            .create_organisation(&system, &input("UBND xã Sơn Phú", Uuid::now_v7()))
            .await,
        "admin_unit_id",
    );
    invalid(
        store
            .create_organisation(&system, &input("", g.son_phu.id))
            .await,
        "name",
    );
    invalid(
        store
            .create_organisation(&system, &input("   ", g.son_phu.id))
            .await,
        "name",
    );
    invalid(
        store
            .update_organisation(&system, dong_que.id, &input("", g.son_phu.id))
            .await,
        "name",
    );
    invalid(
        store
            .update_organisation(
                &system,
                dong_que.id,
                &input("Công an xã Đồng Quế", Uuid::now_v7()),
            )
            .await,
        "admin_unit_id",
    );
    not_found(
        store
            .update_organisation(&system, Uuid::now_v7(), &input("X", g.son_phu.id))
            .await,
    );
    let commander = user(store, "chi.huy", Some(&na_hang), Role::Commander).await;
    let coordinator = user(store, "dieu.phoi", Some(&na_hang), Role::Coordinator).await;
    for actor in [&commander, &coordinator] {
        forbidden(
            store
                .create_organisation(actor, &input("UBND xã Sơn Phú", g.son_phu.id))
                .await,
        );
        forbidden(
            store
                .update_organisation(actor, na_hang.id, &input("Đổi tên", g.na_hang.id))
                .await,
        );
    }
    let page = store
        .list_organisations(&OrganisationQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 3, "nothing refused was stored");
    assert_eq!(
        store.organisation(dong_que.id).await.unwrap().organisation,
        dong_que,
        "nothing refused was changed"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Clusters and membership over time

pub async fn clusters_are_created_by_admins_only(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let coordinator = user(store, "dieu.phoi", Some(&a), Role::Coordinator).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    let input = ClusterInput {
        description: "Cụm giáp ranh ba huyện".into(),
        kind: ClusterKind::InterProvince,
        ..cluster_input("  Cụm Sông Lô – Sơn Dương ", date!(2018 - 01 - 24))
    };
    let created = store.create_cluster(&admin, &input).await.unwrap();
    assert_eq!(created.name, "Cụm Sông Lô – Sơn Dương");
    assert_eq!(created.kind, ClusterKind::InterProvince);
    assert_eq!(created.founded_on, date!(2018 - 01 - 24));
    assert_eq!(created.description, "Cụm giáp ranh ba huyện");
    let detail = store.cluster(&admin, created.id).await.unwrap();
    assert_eq!(detail.cluster, created);
    assert!(detail.members.is_empty() && detail.board.is_empty());
    assert!(detail.rotation.is_empty() && detail.regulations.is_empty());
    assert!(!detail.actor_is_member);

    forbidden(
        store
            .create_cluster(
                &coordinator,
                &cluster_input("Cụm Khác", date!(2019 - 01 - 01)),
            )
            .await,
    );
    invalid(
        store
            .create_cluster(
                &admin,
                &cluster_input("Cụm Tương Lai", today() + Duration::days(2)),
            )
            .await,
        "founded_on",
    );
    invalid(
        store
            .create_cluster(&admin, &cluster_input(" ", date!(2019 - 01 - 01)))
            .await,
        "name",
    );
    // Founded today is fine.
    store
        .create_cluster(&admin, &cluster_input("Cụm Hôm Nay", today()))
        .await
        .unwrap();
    let all = store.list_clusters(&admin, today()).await.unwrap();
    let names: Vec<&str> = all.iter().map(|c| c.cluster.name.as_str()).collect();
    assert_eq!(names, ["Cụm Hôm Nay", "Cụm Sông Lô – Sơn Dương"]);
    not_found(store.cluster(&admin, Uuid::now_v7()).await);

    // Renaming and refounding.
    let renamed = store
        .update_cluster(
            &admin,
            created.id,
            &ClusterInput {
                name: "Cụm liên hoàn Sông Lô".into(),
                ..input.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Cụm liên hoàn Sông Lô");
    assert_eq!(
        store
            .cluster(&admin, created.id)
            .await
            .unwrap()
            .cluster
            .name,
        "Cụm liên hoàn Sông Lô"
    );
    join(store, &created, &a, date!(2018 - 03 - 01), None).await;
    invalid(
        store
            .update_cluster(
                &admin,
                created.id,
                &ClusterInput {
                    founded_on: date!(2018 - 06 - 01),
                    ..input.clone()
                },
            )
            .await,
        "founded_on",
    );
    invalid(
        store
            .update_cluster(
                &admin,
                created.id,
                &ClusterInput {
                    founded_on: today() + Duration::days(2),
                    ..input
                },
            )
            .await,
        "founded_on",
    );
}

/// A cluster founded 24/01/2018 with: Sơn Dương from the start; Sông Lô from 05/03/2019;
/// Lãng Công from the start until (not including) 01/01/2021.
pub async fn membership_over_time(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let son_duong = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let song_lo = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let lang_cong = organisation(store, "Công an xã Lãng Công", &g.lang_cong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &son_duong, date!(2018 - 01 - 24), None).await;
    join(store, &k, &song_lo, date!(2019 - 03 - 05), None).await;
    join(
        store,
        &k,
        &lang_cong,
        date!(2018 - 01 - 24),
        Some(date!(2021 - 01 - 01)),
    )
    .await;

    let on = |day: Date| async move {
        member_orgs(&store.members_on(&system_actor(), k.id, day).await.unwrap())
    };
    assert_eq!(on(date!(2018 - 01 - 23)).await, BTreeSet::new());
    assert_eq!(
        on(date!(2018 - 01 - 24)).await,
        set([son_duong.id, lang_cong.id])
    );
    assert_eq!(
        on(date!(2019 - 03 - 04)).await,
        set([son_duong.id, lang_cong.id])
    );
    assert_eq!(
        on(date!(2019 - 03 - 05)).await,
        set([son_duong.id, song_lo.id, lang_cong.id])
    );
    assert_eq!(
        on(date!(2020 - 12 - 31)).await,
        set([son_duong.id, song_lo.id, lang_cong.id])
    );
    assert_eq!(
        on(date!(2021 - 01 - 01)).await,
        set([son_duong.id, song_lo.id]),
        "a member that left is not a member on its leaving day"
    );
    assert_eq!(on(today()).await, set([son_duong.id, song_lo.id]));

    let members = store
        .members_on(&system, k.id, date!(2019 - 03 - 05))
        .await
        .unwrap();
    let sl = members
        .iter()
        .find(|m| m.membership.organisation_id == song_lo.id)
        .unwrap();
    assert_eq!(sl.organisation_name, "Công an huyện Sông Lô");
    assert_eq!(sl.admin_unit_name, "Huyện Sông Lô");
    assert_eq!(sl.membership.joined_on, date!(2019 - 03 - 05));
    assert_eq!(sl.membership.left_on, None);
    assert_eq!(sl.membership.cluster_id, k.id);

    let count_on = |day: Date| async move {
        let all = store.list_clusters(&system_actor(), day).await.unwrap();
        all.iter()
            .find(|c| c.cluster.id == k.id)
            .expect("the cluster is listed")
            .member_count
    };
    assert_eq!(count_on(date!(2018 - 01 - 23)).await, 0);
    assert_eq!(count_on(date!(2019 - 03 - 04)).await, 2);
    assert_eq!(count_on(date!(2019 - 03 - 05)).await, 3);
    assert_eq!(count_on(date!(2021 - 01 - 01)).await, 2);

    // Every membership, past and present, in joining order.
    let detail = store.cluster(&system, k.id).await.unwrap();
    let joined: Vec<(Uuid, Date)> = detail
        .members
        .iter()
        .map(|m| (m.membership.organisation_id, m.membership.joined_on))
        .collect();
    assert_eq!(joined.len(), 3);
    assert_eq!(joined[2], (song_lo.id, date!(2019 - 03 - 05)));
    assert_eq!(
        joined[..2].iter().map(|j| j.0).collect::<BTreeSet<_>>(),
        set([son_duong.id, lang_cong.id])
    );

    // Lãng Công comes back on the day it left: no overlap.
    join(store, &k, &lang_cong, date!(2021 - 01 - 01), None).await;
    assert_eq!(
        on(date!(2021 - 01 - 01)).await,
        set([son_duong.id, song_lo.id, lang_cong.id])
    );
    assert_eq!(count_on(date!(2021 - 01 - 01)).await, 3);
    assert_eq!(store.cluster(&system, k.id).await.unwrap().members.len(), 4);

    // One organisation in two clusters at once.
    let l = cluster(store, "Cụm Na Hang – Sơn Dương", date!(2020 - 01 - 01)).await;
    join(store, &l, &son_duong, date!(2020 - 01 - 01), None).await;
    let day = date!(2020 - 06 - 01);
    assert!(on(day).await.contains(&son_duong.id));
    assert_eq!(
        member_orgs(&store.members_on(&system, l.id, day).await.unwrap()),
        set([son_duong.id])
    );
    let counts: Vec<(String, i64)> = store
        .list_clusters(&system, day)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.cluster.name, c.member_count))
        .collect();
    assert_eq!(
        counts,
        [
            ("Cụm Na Hang – Sơn Dương".to_string(), 1),
            ("Cụm Sông Lô – Sơn Dương".to_string(), 3)
        ]
    );
    not_found(store.members_on(&system, Uuid::now_v7(), day).await);
}

fn system_actor() -> Actor {
    Actor::system()
}

pub async fn membership_validation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let son_duong = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let song_lo = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(
        store,
        &k,
        &son_duong,
        date!(2018 - 01 - 24),
        Some(date!(2020 - 01 - 01)),
    )
    .await;
    join(store, &k, &song_lo, date!(2019 - 03 - 05), None).await;
    let start = audit_total(store).await;

    invalid_key(
        store
            .add_member(
                &system,
                k.id,
                &membership(&song_lo, date!(2018 - 01 - 23), Some(date!(2018 - 06 - 01))),
            )
            .await,
        "joined_on",
        "error-join-before-founding",
    );
    invalid_key(
        store
            .add_member(
                &system,
                k.id,
                &membership(
                    &son_duong,
                    date!(2022 - 03 - 05),
                    Some(date!(2022 - 03 - 05)),
                ),
            )
            .await,
        "left_on",
        "error-leave-before-join",
    );
    invalid_key(
        store
            .add_member(
                &system,
                k.id,
                &membership(
                    &son_duong,
                    date!(2022 - 03 - 05),
                    Some(date!(2022 - 03 - 01)),
                ),
            )
            .await,
        "left_on",
        "error-leave-before-join",
    );
    // Overlaps with an open membership and with a closed one.
    invalid_key(
        store
            .add_member(
                &system,
                k.id,
                &membership(&song_lo, date!(2023 - 01 - 01), None),
            )
            .await,
        "joined_on",
        "error-membership-overlap",
    );
    invalid_key(
        store
            .add_member(
                &system,
                k.id,
                &membership(&song_lo, date!(2018 - 06 - 01), Some(date!(2019 - 03 - 06))),
            )
            .await,
        "joined_on",
        "error-membership-overlap",
    );
    invalid_key(
        store
            .add_member(
                &system,
                k.id,
                &membership(&son_duong, date!(2019 - 12 - 31), None),
            )
            .await,
        "joined_on",
        "error-membership-overlap",
    );
    let ghost = Organisation {
        id: Uuid::now_v7(),
        ..song_lo.clone()
    };
    invalid(
        store
            .add_member(
                &system,
                k.id,
                &membership(&ghost, date!(2019 - 01 - 01), None),
            )
            .await,
        "organisation_id",
    );
    not_found(
        store
            .add_member(
                &system,
                Uuid::now_v7(),
                &membership(&song_lo, date!(2019 - 01 - 01), None),
            )
            .await,
    );
    assert_eq!(audit_total(store).await, start, "refusals are not audited");
    assert_eq!(store.cluster(&system, k.id).await.unwrap().members.len(), 2);

    // Non-overlapping periods of the same organisation are fine, before and after.
    store
        .add_member(
            &system,
            k.id,
            &membership(&song_lo, date!(2018 - 01 - 24), Some(date!(2019 - 03 - 05))),
        )
        .await
        .unwrap();
    store
        .add_member(
            &system,
            k.id,
            &membership(&son_duong, date!(2020 - 01 - 01), None),
        )
        .await
        .unwrap();
    assert_eq!(audit_total(store).await, start + 2);
    assert_eq!(
        member_orgs(
            &store
                .members_on(&system, k.id, date!(2018 - 06 - 01))
                .await
                .unwrap()
        ),
        set([son_duong.id, song_lo.id])
    );
}

pub async fn membership_changes(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let son_duong = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let song_lo = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let na_hang = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let l = cluster(store, "Cụm Na Hang", date!(2018 - 01 - 24)).await;
    join(store, &k, &son_duong, date!(2018 - 01 - 24), None).await;
    let song_lo_id = join(store, &k, &song_lo, date!(2019 - 03 - 05), None).await;
    let l_member = join(store, &l, &na_hang, date!(2018 - 01 - 24), None).await;

    // Sông Lô leaves on 01/06/2023.
    let left = store
        .update_member(
            &system,
            k.id,
            song_lo_id,
            &MembershipInput {
                note: " rút khỏi cụm ".into(),
                ..membership(&song_lo, date!(2019 - 03 - 05), Some(date!(2023 - 06 - 01)))
            },
        )
        .await
        .unwrap();
    assert_eq!(left.id, song_lo_id);
    assert_eq!(left.left_on, Some(date!(2023 - 06 - 01)));
    assert_eq!(left.note, "rút khỏi cụm");
    let on = |day: Date| async move {
        member_orgs(&store.members_on(&system_actor(), k.id, day).await.unwrap())
    };
    assert_eq!(
        on(date!(2023 - 05 - 31)).await,
        set([son_duong.id, song_lo.id])
    );
    assert_eq!(on(date!(2023 - 06 - 01)).await, set([son_duong.id]));
    let detail = store.cluster(&system, k.id).await.unwrap();
    let stored = detail
        .members
        .iter()
        .find(|m| m.membership.id == song_lo_id)
        .expect("a member that left keeps its history");
    assert_eq!(stored.membership, left);

    invalid(
        store
            .update_member(
                &system,
                k.id,
                song_lo_id,
                &membership(&na_hang, date!(2019 - 03 - 05), None),
            )
            .await,
        "organisation_id",
    );
    invalid_key(
        store
            .update_member(
                &system,
                k.id,
                song_lo_id,
                &membership(&song_lo, date!(2019 - 03 - 05), Some(date!(2019 - 03 - 01))),
            )
            .await,
        "left_on",
        "error-leave-before-join",
    );
    invalid_key(
        store
            .update_member(
                &system,
                k.id,
                song_lo_id,
                &membership(&song_lo, date!(2017 - 03 - 05), None),
            )
            .await,
        "joined_on",
        "error-join-before-founding",
    );
    // A membership of another cluster is not found through this one.
    not_found(
        store
            .update_member(
                &system,
                k.id,
                l_member,
                &membership(&na_hang, date!(2018 - 01 - 24), None),
            )
            .await,
    );
    not_found(store.remove_member(&system, k.id, l_member).await);
    not_found(store.remove_member(&system, k.id, Uuid::now_v7()).await);
    assert_eq!(
        on(date!(2023 - 05 - 31)).await,
        set([son_duong.id, song_lo.id]),
        "refused changes change nothing"
    );

    // A membership entered by mistake is removed.
    let mistake = join(store, &k, &na_hang, date!(2020 - 01 - 01), None).await;
    assert!(on(date!(2020 - 06 - 01)).await.contains(&na_hang.id));
    store.remove_member(&system, k.id, mistake).await.unwrap();
    assert!(!on(date!(2020 - 06 - 01)).await.contains(&na_hang.id));
    let detail = store.cluster(&system, k.id).await.unwrap();
    assert!(detail.members.iter().all(|m| m.membership.id != mistake));
    assert_eq!(detail.members.len(), 2);
    not_found(store.remove_member(&system, k.id, mistake).await);
    // The other cluster's membership is untouched.
    assert_eq!(
        member_orgs(&store.members_on(&system, l.id, today()).await.unwrap()),
        set([na_hang.id])
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Scope

pub async fn cluster_scope_follows_membership(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let x = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let l = cluster(store, "Cụm Na Hang", date!(2019 - 01 - 01)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    // B was a member once.
    join(
        store,
        &k,
        &b,
        date!(2018 - 01 - 24),
        Some(date!(2020 - 01 - 01)),
    )
    .await;
    join(store, &l, &x, date!(2019 - 01 - 01), None).await;

    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let coordinator_b = user(store, "dieu.phoi.b", Some(&b), Role::Coordinator).await;
    let officer_x = user(store, "can.bo.x", Some(&x), Role::Officer).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    let names = |actor: Actor| async move {
        store
            .list_clusters(&actor, today())
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.cluster.name)
            .collect::<Vec<_>>()
    };
    let both = ["Cụm Na Hang", "Cụm Sông Lô – Sơn Dương"];
    assert_eq!(names(officer_a.clone()).await, ["Cụm Sông Lô – Sơn Dương"]);
    assert_eq!(
        names(commander_a.clone()).await,
        ["Cụm Sông Lô – Sơn Dương"]
    );
    assert_eq!(
        names(coordinator_b.clone()).await,
        ["Cụm Sông Lô – Sơn Dương"],
        "a past member still sees the cluster"
    );
    assert_eq!(names(officer_x.clone()).await, ["Cụm Na Hang"]);
    assert_eq!(names(auditor.clone()).await, both);
    assert_eq!(names(admin.clone()).await, both);
    assert_eq!(names(Actor::system()).await, both);

    // A scoped role without an organisation sees nothing tied to one.
    let orphan = Actor {
        user_id: Uuid::now_v7(),
        username: "mo.coi".into(),
        organisation_id: None,
        role: Role::Officer,
    };
    assert!(names(orphan.clone()).await.is_empty());
    not_found(store.cluster(&orphan, k.id).await);

    // Single clusters and their members on a day.
    for (actor, hidden) in [
        (&officer_a, &l),
        (&commander_a, &l),
        (&coordinator_b, &l),
        (&officer_x, &k),
    ] {
        not_found(store.cluster(actor, hidden.id).await);
        not_found(store.members_on(actor, hidden.id, today()).await);
    }
    let seen = store.cluster(&officer_a, k.id).await.unwrap();
    assert!(seen.actor_is_member);
    assert_eq!(seen.members.len(), 2, "a member sees the whole membership");
    assert!(
        store
            .cluster(&coordinator_b, k.id)
            .await
            .unwrap()
            .actor_is_member
    );
    assert!(!store.cluster(&admin, k.id).await.unwrap().actor_is_member);
    assert!(!store.cluster(&auditor, l.id).await.unwrap().actor_is_member);
    assert_eq!(
        member_orgs(
            &store
                .members_on(&officer_a, k.id, date!(2019 - 01 - 01))
                .await
                .unwrap()
        ),
        set([a.id, b.id])
    );

    // Removing the only membership hides the cluster again.
    let removed = join(store, &l, &a, date!(2019 - 01 - 01), None).await;
    assert_eq!(names(officer_a.clone()).await, both);
    store
        .remove_member(&Actor::system(), l.id, removed)
        .await
        .unwrap();
    assert_eq!(names(officer_a).await, ["Cụm Sông Lô – Sơn Dương"]);
}

pub async fn cluster_editing_rights(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let x = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;
    let d = organisation(store, "UBND xã Lãng Công", &g.lang_cong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let l = cluster(store, "Cụm Na Hang", date!(2019 - 01 - 01)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(
        store,
        &k,
        &b,
        date!(2018 - 01 - 24),
        Some(date!(2020 - 01 - 01)),
    )
    .await;
    join(store, &l, &x, date!(2019 - 01 - 01), None).await;

    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let coordinator_a = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let coordinator_b = user(store, "dieu.phoi.b", Some(&b), Role::Coordinator).await;
    let coordinator_x = user(store, "dieu.phoi.x", Some(&x), Role::Coordinator).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    let start = audit_total(store).await;

    let joins_d = membership(&d, date!(2021 - 01 - 01), None);
    // The coordinator of a current member edits.
    let added = store
        .add_member(&coordinator_a, k.id, &joins_d)
        .await
        .unwrap();
    assert_eq!(added.organisation_id, d.id);
    store
        .update_member(
            &coordinator_a,
            k.id,
            added.id,
            &membership(&d, date!(2021 - 01 - 01), Some(date!(2022 - 01 - 01))),
        )
        .await
        .unwrap();
    store
        .add_regulation(
            &coordinator_a,
            k.id,
            &RegulationInput {
                title: "Quy chế phối hợp".into(),
                signed_on: date!(2018 - 01 - 24),
                signatories: vec!["Công an huyện Sơn Dương".into()],
                body: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(audit_total(store).await, start + 3);

    // The coordinator of a non-member cannot even see it; of a past member, cannot edit.
    hidden_or_forbidden(store.add_member(&coordinator_x, k.id, &joins_d).await);
    hidden_or_forbidden(store.remove_member(&coordinator_x, k.id, added.id).await);
    hidden_or_forbidden(store.set_rotation(&coordinator_x, k.id, &[]).await);
    forbidden(store.add_member(&coordinator_b, k.id, &joins_d).await);
    forbidden(store.remove_member(&coordinator_b, k.id, added.id).await);
    // The coordinator of A cannot edit L, where A is no member.
    hidden_or_forbidden(
        store
            .add_member(
                &coordinator_a,
                l.id,
                &membership(&a, date!(2019 - 01 - 01), None),
            )
            .await,
    );
    // Officers, commanders and auditors read but never edit.
    for actor in [&officer_a, &commander_a, &auditor] {
        store.cluster(actor, k.id).await.unwrap();
        forbidden(
            store
                .add_member(actor, k.id, &membership(&d, date!(2023 - 01 - 01), None))
                .await,
        );
        forbidden(
            store
                .update_member(
                    actor,
                    k.id,
                    added.id,
                    &membership(&d, date!(2021 - 01 - 01), None),
                )
                .await,
        );
        forbidden(store.remove_member(actor, k.id, added.id).await);
        forbidden(
            store
                .add_board_member(
                    actor,
                    k.id,
                    &BoardMemberInput {
                        person_name: "Nguyễn Văn An".into(),
                        title: String::new(),
                        role: BoardRole::Member,
                        organisation_id: a.id,
                    },
                )
                .await,
        );
        forbidden(
            store
                .set_rotation(
                    actor,
                    k.id,
                    &[RotationTurn {
                        organisation_id: a.id,
                        starts_on: date!(2018 - 01 - 24),
                        ends_on: date!(2018 - 12 - 31),
                    }],
                )
                .await,
        );
        forbidden(
            store
                .add_regulation(
                    actor,
                    k.id,
                    &RegulationInput {
                        title: "Quy chế sửa đổi".into(),
                        signed_on: date!(2020 - 01 - 01),
                        signatories: vec!["X".into()],
                        body: String::new(),
                    },
                )
                .await,
        );
        forbidden(
            store
                .update_cluster(
                    actor,
                    k.id,
                    &cluster_input("Đổi tên", date!(2018 - 01 - 24)),
                )
                .await,
        );
    }
    for actor in [&coordinator_a, &commander_a, &officer_a, &auditor] {
        forbidden(
            store
                .create_cluster(actor, &cluster_input("Cụm Mới", date!(2020 - 01 - 01)))
                .await,
        );
    }
    assert_eq!(
        audit_total(store).await,
        start + 3,
        "refusals are not audited"
    );

    // A logged-in admin edits any cluster.
    store
        .add_member(&admin, l.id, &membership(&a, date!(2019 - 01 - 01), None))
        .await
        .unwrap();
    assert_eq!(audit_total(store).await, start + 4);
    let detail = store.cluster(&admin, k.id).await.unwrap();
    assert_eq!(detail.members.len(), 3);
    assert_eq!(detail.regulations.len(), 1);
}

pub async fn user_scope_follows_organisation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let coordinator_a = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let officer_b = user(store, "can.bo.b", Some(&b), Role::Officer).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    let usernames = |actor: Actor| async move {
        store
            .list_users(&actor)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect::<BTreeSet<_>>()
    };
    let of_a: BTreeSet<String> = ["can.bo.a", "chi.huy.a", "dieu.phoi.a"]
        .map(String::from)
        .into();
    assert_eq!(usernames(commander_a.clone()).await, of_a);
    assert_eq!(usernames(officer_a.clone()).await, of_a);
    assert_eq!(
        usernames(officer_b.clone()).await,
        ["can.bo.b".to_string()].into()
    );
    for actor in [&admin, &auditor] {
        let all = usernames(actor.clone()).await;
        assert_eq!(all.len(), 6, "{all:?}");
    }
    let listed = store.list_users(&commander_a).await.unwrap();
    assert!(listed.iter().all(|u| u.organisation_id == Some(a.id)));
    assert!(
        listed
            .iter()
            .all(|u| u.organisation_name.as_deref() == Some("Công an huyện Sơn Dương"))
    );

    // Lookups outside the scope find nothing.
    not_found(store.user_by_username(&commander_a, "can.bo.b").await);
    not_found(store.user_by_username(&commander_a, "quan.tri").await);
    not_found(store.user_by_username(&officer_b, "can.bo.a").await);
    let own = store
        .user_by_username(&commander_a, "can.bo.a")
        .await
        .unwrap();
    assert_eq!(own.id, officer_a.user_id);
    assert_eq!(own.role, Role::Officer);
    assert!(!own.disabled);
    assert_eq!(
        store
            .user_by_username(&auditor, "can.bo.b")
            .await
            .unwrap()
            .id,
        officer_b.user_id
    );
    not_found(store.user_by_username(&admin, "khong.co").await);

    // What a commander may create.
    let created = store
        .create_user(
            &commander_a,
            &new_user("can.bo.a2", Some(&a), Role::Officer),
            false,
        )
        .await
        .unwrap();
    assert_eq!(created.organisation_id, Some(a.id));
    assert_eq!(
        created.organisation_name.as_deref(),
        Some("Công an huyện Sơn Dương")
    );
    assert_eq!(created.role, Role::Officer);
    store
        .create_user(
            &commander_a,
            &new_user("chi.huy.a2", Some(&a), Role::Commander),
            false,
        )
        .await
        .unwrap();
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("can.bo.b2", Some(&b), Role::Officer),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("quan.tri.2", None, Role::Admin),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("quan.tri.3", Some(&a), Role::Admin),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("dieu.phoi.a2", Some(&a), Role::Coordinator),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("kiem.tra.2", None, Role::Auditor),
                false,
            )
            .await,
    );
    for actor in [&officer_a, &coordinator_a, &auditor] {
        forbidden(
            store
                .create_user(
                    actor,
                    &new_user("can.bo.a3", Some(&a), Role::Officer),
                    false,
                )
                .await,
        );
    }
    not_found(store.user_by_username(&admin, "can.bo.b2").await);
    not_found(store.user_by_username(&admin, "quan.tri.2").await);

    // Managing existing accounts.
    hidden_or_forbidden(
        store
            .set_user_disabled(&commander_a, officer_b.user_id, true)
            .await,
    );
    hidden_or_forbidden(
        store
            .set_password(&commander_a, officer_b.user_id, "mật khẩu mới đủ dài")
            .await,
    );
    forbidden(
        store
            .set_user_disabled(&commander_a, coordinator_a.user_id, true)
            .await,
    );
    forbidden(
        store
            .set_password(&officer_a, commander_a.user_id, "mật khẩu mới đủ dài")
            .await,
    );
    // Anyone may change their own password.
    store
        .set_password(&officer_a, officer_a.user_id, "mật khẩu mới đủ dài")
        .await
        .unwrap();
    store
        .login("can.bo.a", "mật khẩu mới đủ dài", ADDRESS)
        .await
        .unwrap();
    store
        .set_user_disabled(&commander_a, created.id, true)
        .await
        .unwrap();
    assert!(
        store
            .user_by_username(&commander_a, "can.bo.a2")
            .await
            .unwrap()
            .disabled
    );
    assert!(
        !store
            .user_by_username(&admin, "can.bo.b")
            .await
            .unwrap()
            .disabled
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Board

pub async fn board_members_come_from_member_organisations(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let x = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let l = cluster(store, "Cụm Na Hang", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(store, &k, &b, date!(2018 - 01 - 24), None).await;
    join(store, &l, &x, date!(2018 - 01 - 24), None).await;
    let board_input = |org: &Organisation, name: &str, role| BoardMemberInput {
        person_name: name.into(),
        title: "Phó Trưởng Công an huyện".into(),
        role,
        organisation_id: org.id,
    };

    let member = store
        .add_board_member(
            &system,
            k.id,
            &board_input(&b, " Trần Văn Bình ", BoardRole::Member),
        )
        .await
        .unwrap();
    assert_eq!(member.organisation_name, "Công an huyện Sông Lô");
    assert_eq!(member.member.person_name, "Trần Văn Bình");
    assert_eq!(member.member.cluster_id, k.id);
    assert_eq!(member.member.organisation_id, b.id);
    assert_eq!(member.member.role, BoardRole::Member);
    let head = store
        .add_board_member(
            &system,
            k.id,
            &board_input(&a, "Nguyễn Văn An", BoardRole::Head),
        )
        .await
        .unwrap();
    let deputy = store
        .add_board_member(
            &system,
            k.id,
            &board_input(&b, "Lê Thị Cúc", BoardRole::Deputy),
        )
        .await
        .unwrap();
    let board = store.cluster(&system, k.id).await.unwrap().board;
    let ids: Vec<Uuid> = board.iter().map(|m| m.member.id).collect();
    assert_eq!(
        ids,
        [head.member.id, deputy.member.id, member.member.id],
        "head first, then deputies, then members"
    );
    assert_eq!(board[0].member.title, "Phó Trưởng Công an huyện");

    let start = audit_total(store).await;
    invalid(
        store
            .add_board_member(
                &system,
                k.id,
                &board_input(&x, "Hoàng Văn Dũng", BoardRole::Member),
            )
            .await,
        "organisation_id",
    );
    let ghost = Organisation {
        id: Uuid::now_v7(),
        ..a.clone()
    };
    invalid(
        store
            .add_board_member(
                &system,
                k.id,
                &board_input(&ghost, "Hoàng Văn Dũng", BoardRole::Member),
            )
            .await,
        "organisation_id",
    );
    invalid(
        store
            .add_board_member(&system, k.id, &board_input(&a, "  ", BoardRole::Member))
            .await,
        "person_name",
    );
    not_found(
        store
            .add_board_member(
                &system,
                Uuid::now_v7(),
                &board_input(&a, "Ai Đó", BoardRole::Member),
            )
            .await,
    );
    assert_eq!(audit_total(store).await, start);
    assert_eq!(store.cluster(&system, k.id).await.unwrap().board.len(), 3);

    // Removing: only through its own cluster, and only once.
    not_found(
        store
            .remove_board_member(&system, l.id, member.member.id)
            .await,
    );
    store
        .remove_board_member(&system, k.id, member.member.id)
        .await
        .unwrap();
    let board = store.cluster(&system, k.id).await.unwrap().board;
    assert_eq!(
        board.iter().map(|m| m.member.id).collect::<Vec<_>>(),
        [head.member.id, deputy.member.id]
    );
    not_found(
        store
            .remove_board_member(&system, k.id, member.member.id)
            .await,
    );
    assert_eq!(audit_total(store).await, start + 1);
}

// ---------------------------------------------------------------------------------------------
// 6. Rotation

fn turn(org: &Organisation, starts_on: Date, ends_on: Date) -> RotationTurn {
    RotationTurn {
        organisation_id: org.id,
        starts_on,
        ends_on,
    }
}

#[track_caller]
fn rotation_error<T: Debug>(result: StoreResult<T>, key: &str) {
    match result {
        Err(StoreError::Invalid(errors)) => assert!(
            errors.iter().any(|e| e.key == key),
            "expected {key}, got {errors:?}"
        ),
        other => panic!("expected Invalid with {key}, got {other:?}"),
    }
}

pub async fn rotation_schedules(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let c = organisation(store, "Công an xã Lãng Công", &g.lang_cong).await;
    let x = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(
        store,
        &k,
        &b,
        date!(2018 - 01 - 24),
        Some(date!(2020 - 01 - 01)),
    )
    .await;
    join(store, &k, &c, date!(2019 - 01 - 01), None).await;

    let schedule = vec![
        turn(&a, date!(2018 - 01 - 24), date!(2018 - 06 - 30)),
        turn(&b, date!(2018 - 07 - 01), date!(2018 - 12 - 31)),
        turn(&c, date!(2019 - 01 - 01), date!(2019 - 06 - 30)),
        turn(&b, date!(2019 - 07 - 01), date!(2019 - 12 - 31)),
        turn(&a, date!(2020 - 01 - 01), date!(2020 - 12 - 31)),
    ];
    let stored = store.set_rotation(&system, k.id, &schedule).await.unwrap();
    assert_eq!(
        stored.iter().map(|t| t.turn.clone()).collect::<Vec<_>>(),
        schedule
    );
    assert_eq!(stored[0].organisation_name, "Công an huyện Sơn Dương");
    assert_eq!(stored[2].organisation_name, "Công an xã Lãng Công");
    let shown = store.cluster(&system, k.id).await.unwrap().rotation;
    assert_eq!(
        shown.iter().map(|t| t.turn.clone()).collect::<Vec<_>>(),
        schedule,
        "the schedule reads back in order"
    );

    let start = audit_total(store).await;
    let mut gap = schedule.clone();
    gap[1].starts_on = date!(2018 - 07 - 02);
    let result = store.set_rotation(&system, k.id, &gap).await;
    invalid_key(result, "turns[1].starts_on", "error-rotation-gap");
    let mut overlap = schedule.clone();
    overlap[2].starts_on = date!(2018 - 12 - 31);
    invalid_key(
        store.set_rotation(&system, k.id, &overlap).await,
        "turns[2].starts_on",
        "error-rotation-overlap",
    );
    rotation_error(
        store
            .set_rotation(
                &system,
                k.id,
                &[turn(&x, date!(2018 - 01 - 24), date!(2018 - 06 - 30))],
            )
            .await,
        "error-host-not-member",
    );
    // Lãng Công joined in 2019; Sông Lô left at the start of 2020.
    rotation_error(
        store
            .set_rotation(
                &system,
                k.id,
                &[turn(&c, date!(2018 - 07 - 01), date!(2018 - 12 - 31))],
            )
            .await,
        "error-host-not-member",
    );
    rotation_error(
        store
            .set_rotation(
                &system,
                k.id,
                &[turn(&b, date!(2019 - 07 - 01), date!(2020 - 01 - 01))],
            )
            .await,
        "error-host-not-member",
    );
    rotation_error(
        store
            .set_rotation(
                &system,
                k.id,
                &[turn(&a, date!(2019 - 07 - 01), date!(2019 - 06 - 30))],
            )
            .await,
        "error-end-before-start",
    );
    not_found(store.set_rotation(&system, Uuid::now_v7(), &schedule).await);
    assert_eq!(audit_total(store).await, start, "refusals are not audited");
    let shown = store.cluster(&system, k.id).await.unwrap().rotation;
    assert_eq!(
        shown.len(),
        schedule.len(),
        "a refused schedule changes nothing"
    );

    // A new schedule replaces the old one whole.
    let replacement = vec![turn(&c, date!(2021 - 01 - 01), date!(2021 - 12 - 31))];
    let stored = store
        .set_rotation(&system, k.id, &replacement)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let shown = store.cluster(&system, k.id).await.unwrap().rotation;
    assert_eq!(
        shown.iter().map(|t| t.turn.clone()).collect::<Vec<_>>(),
        replacement
    );
    let cleared = store.set_rotation(&system, k.id, &[]).await.unwrap();
    assert!(cleared.is_empty());
    assert!(
        store
            .cluster(&system, k.id)
            .await
            .unwrap()
            .rotation
            .is_empty()
    );
    assert_eq!(audit_total(store).await, start + 2);
}

// ---------------------------------------------------------------------------------------------
// 7. Regulations

fn regulation(title: &str, signed_on: Date, signatories: &[&str]) -> RegulationInput {
    RegulationInput {
        title: title.into(),
        signed_on,
        signatories: signatories.iter().map(|s| s.to_string()).collect(),
        body: "Điều 1. Phạm vi điều chỉnh".into(),
    }
}

pub async fn regulation_versions(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let l = cluster(store, "Cụm Na Hang", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    let signers = ["Công an huyện Sơn Dương", " Công an huyện Sông Lô "];

    let v1 = store
        .add_regulation(
            &system,
            k.id,
            &regulation("Quy chế phối hợp", date!(2018 - 01 - 24), &signers),
        )
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.cluster_id, k.id);
    assert_eq!(
        v1.signatories,
        ["Công an huyện Sơn Dương", "Công an huyện Sông Lô"]
    );
    let v2 = store
        .add_regulation(
            &system,
            k.id,
            &regulation(
                "Quy chế phối hợp (sửa đổi)",
                date!(2020 - 05 - 01),
                &signers[..1],
            ),
        )
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    // Numbering is per cluster.
    let other = store
        .add_regulation(
            &system,
            l.id,
            &regulation("Quy chế Na Hang", date!(2019 - 01 - 01), &signers),
        )
        .await
        .unwrap();
    assert_eq!(other.version, 1);

    let start = audit_total(store).await;
    invalid_key(
        store
            .add_regulation(
                &system,
                k.id,
                &regulation("Quy chế", date!(2018 - 01 - 23), &signers),
            )
            .await,
        "signed_on",
        "error-signed-before-founding",
    );
    invalid(
        store
            .add_regulation(
                &system,
                k.id,
                &regulation("Quy chế", date!(2021 - 01 - 01), &[]),
            )
            .await,
        "signatories",
    );
    invalid(
        store
            .add_regulation(
                &system,
                k.id,
                &regulation("Quy chế", date!(2021 - 01 - 01), &[" "]),
            )
            .await,
        "signatories[0]",
    );
    invalid(
        store
            .add_regulation(
                &system,
                k.id,
                &regulation(" ", date!(2021 - 01 - 01), &signers),
            )
            .await,
        "title",
    );
    invalid_key(
        store
            .add_regulation(
                &system,
                k.id,
                &regulation("Quy chế", date!(2019 - 01 - 01), &signers),
            )
            .await,
        "signed_on",
        "error-signed-before-previous",
    );
    invalid_key(
        store
            .add_regulation(
                &system,
                k.id,
                &regulation("Quy chế", today() + Duration::days(2), &signers),
            )
            .await,
        "signed_on",
        "error-date-in-future",
    );
    not_found(
        store
            .add_regulation(
                &system,
                Uuid::now_v7(),
                &regulation("Quy chế", date!(2021 - 01 - 01), &signers),
            )
            .await,
    );
    assert_eq!(audit_total(store).await, start, "refusals are not audited");

    let v3 = store
        .add_regulation(
            &system,
            k.id,
            &regulation("Quy chế 2021", date!(2021 - 01 - 01), &signers),
        )
        .await
        .unwrap();
    assert_eq!(v3.version, 3, "refusals use up no version number");
    let detail = store.cluster(&system, k.id).await.unwrap();
    assert_eq!(
        detail
            .regulations
            .iter()
            .map(|r| r.version)
            .collect::<Vec<_>>(),
        [3, 2, 1],
        "newest first"
    );
    assert_eq!(detail.regulations[1], v2);
    assert_eq!(detail.regulations[2], v1);
    assert_eq!(detail.regulations[2].body, "Điều 1. Phạm vi điều chỉnh");
}

// ---------------------------------------------------------------------------------------------
// 8. Accounts

pub async fn accounts_and_sessions(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let created = store
        .create_user(
            &Actor::system(),
            &new_user("can.bo.a", Some(&a), Role::Officer),
            false,
        )
        .await
        .unwrap();
    assert_eq!(created.username, "can.bo.a");
    assert_eq!(created.display_name, "Cán bộ can.bo.a");
    assert_eq!(created.role, Role::Officer);
    assert_eq!(created.organisation_id, Some(a.id));
    assert!(!created.disabled);

    conflict(
        store
            .create_user(
                &Actor::system(),
                &new_user("can.bo.a", Some(&a), Role::Commander),
                false,
            )
            .await,
        "username",
    );

    bad_credentials(store.login("can.bo.a", "sai mật khẩu", ADDRESS).await);
    bad_credentials(store.login("khong.co.ai", PASSWORD, ADDRESS).await);
    bad_credentials(store.login("can.bo.a", "", ADDRESS).await);

    let session = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert_eq!(session.actor.user_id, created.id);
    assert_eq!(session.actor.organisation_id, Some(a.id));
    assert_eq!(session.actor.role, Role::Officer);
    assert!(session.expires_at > OffsetDateTime::now_utc());
    assert!(
        session.token.len() >= 32,
        "a token long enough to guess never"
    );
    let second = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert_ne!(session.token, second.token);

    assert_eq!(
        store.session_actor(&session.token).await.unwrap(),
        Some(session.actor.clone())
    );
    assert_eq!(
        store.session_actor(&session.token).await.unwrap(),
        Some(session.actor.clone()),
        "a session can be used again"
    );
    assert_eq!(store.session_actor("not-a-token").await.unwrap(), None);
    assert_eq!(store.session_actor("").await.unwrap(), None);

    store.logout(&session.actor, &session.token).await.unwrap();
    assert_eq!(store.session_actor(&session.token).await.unwrap(), None);
    assert_eq!(
        store.session_actor(&second.token).await.unwrap(),
        Some(second.actor.clone()),
        "logging out ends only that session"
    );
    // Somebody else's token does not end their session.
    let other = user(store, "can.bo.b", Some(&a), Role::Officer).await;
    store.logout(&other, &second.token).await.unwrap();
    assert!(store.session_actor(&second.token).await.unwrap().is_some());
}

pub async fn login_failures_are_rate_limited(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    user(store, "can.bo.a", Some(&a), Role::Officer).await;
    user(store, "can.bo.b", Some(&a), Role::Officer).await;
    for _ in 0..lienhoan_domain::login::MAX_FAILURES_PER_ACCOUNT {
        bad_credentials(store.login("can.bo.a", "sai mật khẩu", ADDRESS).await);
    }
    let limited = store.login("can.bo.a", PASSWORD, ADDRESS).await;
    assert!(
        matches!(limited, Err(StoreError::RateLimited)),
        "expected RateLimited, got {limited:?}"
    );
    let limited = store.login("can.bo.a", PASSWORD, "10.0.0.9").await;
    assert!(
        matches!(limited, Err(StoreError::RateLimited)),
        "the account limit holds from any address, got {limited:?}"
    );
    // Another account from the same address is not locked out.
    store.login("can.bo.b", PASSWORD, ADDRESS).await.unwrap();
}

pub async fn disabling_and_new_passwords_end_sessions(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    let officer = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let session = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert!(store.session_actor(&session.token).await.unwrap().is_some());

    store
        .set_user_disabled(&admin, officer.user_id, true)
        .await
        .unwrap();
    assert_eq!(store.session_actor(&session.token).await.unwrap(), None);
    assert!(store.login("can.bo.a", PASSWORD, ADDRESS).await.is_err());
    assert!(
        store
            .user_by_username(&admin, "can.bo.a")
            .await
            .unwrap()
            .disabled
    );
    store
        .set_user_disabled(&admin, officer.user_id, false)
        .await
        .unwrap();
    assert!(
        !store
            .user_by_username(&admin, "can.bo.a")
            .await
            .unwrap()
            .disabled
    );
    let session = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert!(store.session_actor(&session.token).await.unwrap().is_some());

    // An admin cannot lock themself out.
    let admin_session = store.login("quan.tri", PASSWORD, ADDRESS).await.unwrap();
    assert!(
        matches!(
            store.set_user_disabled(&admin, admin.user_id, true).await,
            Err(StoreError::Invalid(_) | StoreError::Forbidden)
        ),
        "disabling oneself is refused"
    );
    assert!(
        store
            .session_actor(&admin_session.token)
            .await
            .unwrap()
            .is_some()
    );

    // A new password ends every session; the old one stops working, the new one works.
    let new_password = "mật khẩu mới đủ dài";
    store
        .set_password(&admin, officer.user_id, new_password)
        .await
        .unwrap();
    assert_eq!(store.session_actor(&session.token).await.unwrap(), None);
    bad_credentials(store.login("can.bo.a", PASSWORD, ADDRESS).await);
    let session = store
        .login("can.bo.a", new_password, ADDRESS)
        .await
        .unwrap();
    assert_eq!(
        store
            .session_actor(&session.token)
            .await
            .unwrap()
            .map(|a| a.user_id),
        Some(officer.user_id)
    );
    assert!(
        store
            .session_actor(&admin_session.token)
            .await
            .unwrap()
            .is_some(),
        "other accounts keep their sessions"
    );
    invalid(
        store.set_password(&admin, officer.user_id, "ngắn").await,
        "password",
    );
    not_found(
        store
            .set_password(&admin, Uuid::now_v7(), new_password)
            .await,
    );
    not_found(store.set_user_disabled(&admin, Uuid::now_v7(), true).await);
    store
        .login("can.bo.a", new_password, ADDRESS)
        .await
        .unwrap();
}

pub async fn user_validation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let system = Actor::system();
    let weak = NewUser {
        password: "1234".into(),
        ..new_user("demo.yeu", Some(&a), Role::Officer)
    };
    invalid(store.create_user(&system, &weak, false).await, "password");
    not_found(store.user_by_username(&system, "demo.yeu").await);
    // Weak passwords are for the demo accounts only.
    store.create_user(&system, &weak, true).await.unwrap();
    store.login("demo.yeu", "1234", ADDRESS).await.unwrap();

    invalid(
        store
            .create_user(&system, &new_user("có dấu", Some(&a), Role::Officer), false)
            .await,
        "username",
    );
    invalid(
        store
            .create_user(&system, &new_user("ab", Some(&a), Role::Officer), false)
            .await,
        "username",
    );
    invalid(
        store
            .create_user(
                &system,
                &NewUser {
                    display_name: " ".into(),
                    ..new_user("can.bo.x", Some(&a), Role::Officer)
                },
                false,
            )
            .await,
        "display_name",
    );
    invalid(
        store
            .create_user(&system, &new_user("can.bo.x", None, Role::Officer), false)
            .await,
        "organisation_id",
    );
    let ghost = Organisation {
        id: Uuid::now_v7(),
        ..a.clone()
    };
    invalid(
        store
            .create_user(
                &system,
                &new_user("can.bo.x", Some(&ghost), Role::Officer),
                false,
            )
            .await,
        "organisation_id",
    );
    not_found(store.user_by_username(&system, "can.bo.x").await);
    // System-wide roles need no organisation.
    let auditor = store
        .create_user(&system, &new_user("kiem.tra", None, Role::Auditor), false)
        .await
        .unwrap();
    assert_eq!(auditor.organisation_id, None);
    assert_eq!(auditor.organisation_name, None);
    assert_eq!(store.list_users(&system).await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// 9. Audit

/// Runs one write and checks that it appended exactly one entry, with this action, by this
/// actor, chained to the entry before.
async fn audited_once<T: Debug>(
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

pub async fn every_successful_write_is_audited_once(store: &dyn Store) {
    let system = Actor::system();
    let units = geo_units();
    let successions = geo_successions();
    audited_once(
        store,
        &system,
        "geo.import",
        None,
        store.import_geo(&system, &units, &successions, &|_| {}),
    )
    .await;
    let lang_cong = store.admin_unit_by_code("2024", "08773").await.unwrap();
    let song_lo = store.admin_unit_by_code("2024", "253").await.unwrap();
    audited_once(
        store,
        &system,
        "geo.unit.alias",
        Some(lang_cong.id),
        store.add_unit_alias(&system, lang_cong.id, "Bạch Lưu"),
    )
    .await;
    let hist = historical("09001", "Cao Đại", Some(&song_lo));
    let added = audited_once(
        store,
        &system,
        "geo.unit.add",
        None,
        store.add_historical_unit(&system, &hist),
    )
    .await;
    assert_eq!(audit_all(store).await[0].target_id, Some(added.id));

    let org_input = OrganisationInput {
        name: "Công an xã Lãng Công".into(),
        kind: OrgKind::Police,
        admin_unit_id: lang_cong.id,
    };
    let org = audited_once(
        store,
        &system,
        "organisation.create",
        None,
        store.create_organisation(&system, &org_input),
    )
    .await;
    audited_once(
        store,
        &system,
        "organisation.update",
        Some(org.id),
        store.update_organisation(
            &system,
            org.id,
            &OrganisationInput {
                name: "Công an xã Lãng Công (cũ)".into(),
                ..org_input
            },
        ),
    )
    .await;
    let admin_user = audited_once(
        store,
        &system,
        "user.create",
        None,
        store.create_user(&system, &new_user("quan.tri", None, Role::Admin), false),
    )
    .await;
    let officer_user = store
        .create_user(
            &system,
            &new_user("can.bo", Some(&org), Role::Officer),
            false,
        )
        .await
        .unwrap();
    let admin_actor = Actor {
        user_id: admin_user.id,
        username: admin_user.username.clone(),
        organisation_id: None,
        role: Role::Admin,
    };
    let session = audited_once(
        store,
        &admin_actor,
        "session.create",
        Some(admin_user.id),
        store.login("quan.tri", PASSWORD, ADDRESS),
    )
    .await;
    let admin = session.actor.clone();
    assert_eq!(admin, admin_actor);

    let input = cluster_input("Cụm Sông Lô", date!(2018 - 01 - 24));
    let k = audited_once(
        store,
        &admin,
        "cluster.create",
        None,
        store.create_cluster(&admin, &input),
    )
    .await;
    assert_eq!(audit_all(store).await[0].target_id, Some(k.id));
    audited_once(
        store,
        &admin,
        "cluster.update",
        Some(k.id),
        store.update_cluster(
            &admin,
            k.id,
            &ClusterInput {
                description: "Mô tả".into(),
                ..input
            },
        ),
    )
    .await;
    let m = audited_once(
        store,
        &admin,
        "cluster.member.add",
        Some(k.id),
        store.add_member(&admin, k.id, &membership(&org, date!(2018 - 01 - 24), None)),
    )
    .await;
    audited_once(
        store,
        &admin,
        "cluster.member.update",
        Some(k.id),
        store.update_member(
            &admin,
            k.id,
            m.id,
            &membership(&org, date!(2018 - 01 - 24), Some(date!(2025 - 01 - 01))),
        ),
    )
    .await;
    let board = audited_once(
        store,
        &admin,
        "cluster.board.add",
        Some(k.id),
        store.add_board_member(
            &admin,
            k.id,
            &BoardMemberInput {
                person_name: "Nguyễn Văn An".into(),
                title: String::new(),
                role: BoardRole::Head,
                organisation_id: org.id,
            },
        ),
    )
    .await;
    audited_once(
        store,
        &admin,
        "cluster.board.remove",
        Some(k.id),
        store.remove_board_member(&admin, k.id, board.member.id),
    )
    .await;
    audited_once(
        store,
        &admin,
        "cluster.rotation.set",
        Some(k.id),
        store.set_rotation(
            &admin,
            k.id,
            &[turn(&org, date!(2018 - 01 - 24), date!(2018 - 12 - 31))],
        ),
    )
    .await;
    audited_once(
        store,
        &admin,
        "cluster.regulation.add",
        Some(k.id),
        store.add_regulation(
            &admin,
            k.id,
            &regulation("Quy chế", date!(2018 - 01 - 24), &["UBND huyện Sông Lô"]),
        ),
    )
    .await;
    audited_once(
        store,
        &admin,
        "cluster.rotation.set",
        Some(k.id),
        store.set_rotation(&admin, k.id, &[]),
    )
    .await;
    audited_once(
        store,
        &admin,
        "cluster.member.remove",
        Some(k.id),
        store.remove_member(&admin, k.id, m.id),
    )
    .await;
    audited_once(
        store,
        &admin,
        "user.password",
        Some(officer_user.id),
        store.set_password(&admin, officer_user.id, "mật khẩu mới đủ dài"),
    )
    .await;
    audited_once(
        store,
        &admin,
        "user.disable",
        Some(officer_user.id),
        store.set_user_disabled(&admin, officer_user.id, true),
    )
    .await;
    audited_once(
        store,
        &admin,
        "user.enable",
        Some(officer_user.id),
        store.set_user_disabled(&admin, officer_user.id, false),
    )
    .await;
    audited_once(
        store,
        &admin,
        "session.delete",
        Some(admin.user_id),
        store.logout(&admin, &session.token),
    )
    .await;

    // Reads write nothing.
    let total = audit_total(store).await;
    store.cluster(&system, k.id).await.unwrap();
    store.list_clusters(&system, today()).await.unwrap();
    store.members_on(&system, k.id, today()).await.unwrap();
    store.list_users(&system).await.unwrap();
    store
        .list_organisations(&OrganisationQuery::default())
        .await
        .unwrap();
    search(store, text_query("lang")).await;
    store.verify_audit(&|_| {}).await.unwrap().unwrap();
    assert_eq!(audit_total(store).await, total, "reads are not audited");

    let entries = audit_all(store).await;
    assert_eq!(
        store.verify_audit(&|_| {}).await.unwrap(),
        Ok(entries.len() as u64)
    );
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(
            entry.seq,
            (entries.len() - i) as i64,
            "newest first, no gaps"
        );
        if let Some(older) = entries.get(i + 1) {
            assert_eq!(entry.prev_hash, older.hash);
        }
        assert!(entry.summary.is_object(), "{entry:?}");
    }
    assert_eq!(
        entries.last().unwrap().prev_hash,
        lienhoan_domain::audit::GENESIS_HASH
    );
    let verified = std::sync::atomic::AtomicU64::new(0);
    store
        .verify_audit(&|n| verified.store(n, std::sync::atomic::Ordering::Relaxed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        verified.load(std::sync::atomic::Ordering::Relaxed),
        entries.len() as u64,
        "progress reports the entries checked"
    );
}

/// Runs a write that must be refused and checks that the log did not grow.
async fn refused<T: Debug>(
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

pub async fn rejected_writes_are_not_audited(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let system = Actor::system();
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let x = organisation(store, "Công an huyện Na Hang", &g.na_hang).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let m = join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(store, &k, &b, date!(2018 - 01 - 24), None).await;
    let officer = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let coordinator = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let start = audit_total(store).await;

    let org_input = |name: &str, unit: Uuid| OrganisationInput {
        name: name.into(),
        kind: OrgKind::School,
        admin_unit_id: unit,
    };
    let mut bad_units = geo_units();
    bad_units.push(unit_record(
        "2024",
        AdminLevel::Province,
        "99",
        "Hà Tuyên",
        "Tỉnh",
        None,
    ));
    bad_units.push(unit_record(
        "2024",
        AdminLevel::Commune,
        "99999",
        "Không Có",
        "Xã",
        Some("999"),
    ));
    refused(
        store,
        "geo import with an unknown parent",
        store.import_geo(&system, &bad_units, &[], &|_| {}),
    )
    .await;
    not_found(store.admin_unit_by_code("2024", "99").await);
    refused(
        store,
        "geo import by a coordinator",
        store.import_geo(&coordinator, &geo_units(), &geo_successions(), &|_| {}),
    )
    .await;
    refused(
        store,
        "historical unit with a bad code",
        store.add_historical_unit(&system, &historical("0A", "Cao Đại", Some(&g.song_lo))),
    )
    .await;
    refused(
        store,
        "historical unit with an unknown successor",
        store.add_historical_unit(
            &system,
            &NewHistoricalUnit {
                successor_ids: vec![Uuid::now_v7()],
                ..historical("09001", "Cao Đại", Some(&g.song_lo))
            },
        ),
    )
    .await;
    refused(
        store,
        "alias by an officer",
        store.add_unit_alias(&officer, g.na_hang.id, "Nà Hang"),
    )
    .await;
    refused(
        store,
        "empty alias",
        store.add_unit_alias(&system, g.na_hang.id, ""),
    )
    .await;
    refused(
        store,
        "organisation without a name",
        store.create_organisation(&system, &org_input(" ", g.na_hang.id)),
    )
    .await;
    refused(
        store,
        "organisation in an unknown unit",
        store.create_organisation(&system, &org_input("Trường", Uuid::now_v7())),
    )
    .await;
    refused(
        store,
        "organisation by a commander",
        store.create_organisation(&commander, &org_input("Trường", g.na_hang.id)),
    )
    .await;
    refused(
        store,
        "update of an unknown organisation",
        store.update_organisation(&system, Uuid::now_v7(), &org_input("Trường", g.na_hang.id)),
    )
    .await;
    refused(
        store,
        "cluster founded in the future",
        store.create_cluster(&system, &cluster_input("Cụm", today() + Duration::days(2))),
    )
    .await;
    refused(
        store,
        "cluster by a coordinator",
        store.create_cluster(&coordinator, &cluster_input("Cụm", date!(2020 - 01 - 01))),
    )
    .await;
    refused(
        store,
        "cluster founded after its members joined",
        store.update_cluster(&system, k.id, &cluster_input("Cụm", date!(2019 - 01 - 01))),
    )
    .await;
    refused(
        store,
        "member joining before founding",
        store.add_member(&system, k.id, &membership(&x, date!(2017 - 01 - 01), None)),
    )
    .await;
    refused(
        store,
        "overlapping membership",
        store.add_member(&system, k.id, &membership(&a, date!(2019 - 01 - 01), None)),
    )
    .await;
    refused(
        store,
        "member added by an officer",
        store.add_member(&officer, k.id, &membership(&x, date!(2019 - 01 - 01), None)),
    )
    .await;
    refused(
        store,
        "leaving before joining",
        store.update_member(
            &system,
            k.id,
            m,
            &membership(&a, date!(2018 - 01 - 24), Some(date!(2018 - 01 - 01))),
        ),
    )
    .await;
    refused(
        store,
        "removing an unknown membership",
        store.remove_member(&system, k.id, Uuid::now_v7()),
    )
    .await;
    refused(
        store,
        "board member from a non-member",
        store.add_board_member(
            &system,
            k.id,
            &BoardMemberInput {
                person_name: "Hoàng Văn Dũng".into(),
                title: String::new(),
                role: BoardRole::Member,
                organisation_id: x.id,
            },
        ),
    )
    .await;
    refused(
        store,
        "removing an unknown board member",
        store.remove_board_member(&system, k.id, Uuid::now_v7()),
    )
    .await;
    refused(
        store,
        "rotation with a gap",
        store.set_rotation(
            &system,
            k.id,
            &[
                turn(&a, date!(2018 - 01 - 24), date!(2018 - 06 - 30)),
                turn(&b, date!(2018 - 07 - 05), date!(2018 - 12 - 31)),
            ],
        ),
    )
    .await;
    refused(
        store,
        "regulation without signatories",
        store.add_regulation(
            &system,
            k.id,
            &regulation("Quy chế", date!(2018 - 01 - 24), &[]),
        ),
    )
    .await;
    refused(
        store,
        "duplicate username",
        store.create_user(
            &system,
            &new_user("can.bo.a", Some(&a), Role::Officer),
            false,
        ),
    )
    .await;
    refused(
        store,
        "weak password",
        store.create_user(
            &system,
            &NewUser {
                password: "123".into(),
                ..new_user("yeu", Some(&a), Role::Officer)
            },
            false,
        ),
    )
    .await;
    refused(
        store,
        "user in another organisation by a commander",
        store.create_user(
            &commander,
            &new_user("can.bo.b", Some(&b), Role::Officer),
            false,
        ),
    )
    .await;
    refused(
        store,
        "weak new password",
        store.set_password(&system, officer.user_id, "123"),
    )
    .await;
    refused(
        store,
        "commander disabling a coordinator",
        store.set_user_disabled(&commander, coordinator.user_id, true),
    )
    .await;
    // Logging out of a session that is not open changes nothing.
    store.logout(&officer, "not-a-token").await.unwrap();

    assert_eq!(audit_total(store).await, start);
    assert_eq!(store.verify_audit(&|_| {}).await.unwrap(), Ok(start as u64));
}

pub async fn audit_log_is_for_auditors_and_admins(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let officer = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let coordinator = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    for actor in [&officer, &commander, &coordinator] {
        forbidden(store.audit_log(actor, &AuditQuery::default()).await);
        forbidden(
            store
                .audit_log(
                    actor,
                    &AuditQuery {
                        target_id: Some(actor.user_id),
                        ..AuditQuery::default()
                    },
                )
                .await,
        );
    }
    let total = audit_total(store).await;
    for actor in [&auditor, &admin] {
        let page = store
            .audit_log(actor, &AuditQuery::default())
            .await
            .unwrap();
        assert_eq!(page.total, total);
        assert!(!page.items.is_empty());
    }
    assert_eq!(
        audit_total(store).await,
        total,
        "reading the log is not itself a write"
    );
}

pub async fn audit_log_filters(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    let k = store
        .create_cluster(&admin, &cluster_input("Cụm Sông Lô", date!(2018 - 01 - 24)))
        .await
        .unwrap();
    let l = cluster(store, "Cụm Na Hang", date!(2018 - 01 - 24)).await;
    store
        .add_member(&admin, k.id, &membership(&a, date!(2018 - 01 - 24), None))
        .await
        .unwrap();
    store
        .add_member(&admin, k.id, &membership(&b, date!(2018 - 01 - 24), None))
        .await
        .unwrap();
    join(store, &l, &a, date!(2018 - 01 - 24), None).await;

    let all = audit_all(store).await;
    let query = |q: AuditQuery| async move {
        store
            .audit_log(
                &Actor::system(),
                &AuditQuery {
                    limit: crate::PAGE_MAX,
                    ..q
                },
            )
            .await
            .unwrap()
    };
    let seqs = |items: &[AuditView]| items.iter().map(|e| e.seq).collect::<Vec<_>>();

    // By action prefix.
    let clusters = query(AuditQuery {
        action: Some("cluster.".into()),
        ..AuditQuery::default()
    })
    .await;
    let expected: Vec<i64> = all
        .iter()
        .filter(|e| e.action.starts_with("cluster."))
        .map(|e| e.seq)
        .collect();
    assert_eq!(expected.len(), 5, "two clusters and three members");
    assert_eq!(seqs(&clusters.items), expected);
    assert_eq!(clusters.total, 5);
    let members = query(AuditQuery {
        action: Some("cluster.member.add".into()),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(members.total, 3);
    let none = query(AuditQuery {
        action: Some("khong.co".into()),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(none.total, 0);
    assert!(none.items.is_empty());

    // By target.
    let about_k = query(AuditQuery {
        target_id: Some(k.id),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(about_k.total, 3, "created, two members");
    assert!(about_k.items.iter().all(|e| e.target_id == Some(k.id)));
    assert_eq!(
        seqs(&about_k.items),
        all.iter()
            .filter(|e| e.target_id == Some(k.id))
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    );

    // By actor and action together.
    let by_admin = query(AuditQuery {
        actor_name: Some("quan.tri".into()),
        action: Some("cluster.".into()),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(by_admin.total, 3);
    assert!(
        by_admin
            .items
            .iter()
            .all(|e| e.actor_name == "quan.tri" && e.actor_id == Some(admin.user_id))
    );
    let by_system = query(AuditQuery {
        actor_name: Some("system".into()),
        ..AuditQuery::default()
    })
    .await;
    assert!(by_system.items.iter().all(|e| e.actor_id.is_none()));
    assert_eq!(
        by_system.total,
        all.iter().filter(|e| e.actor_name == "system").count() as i64
    );

    // By calendar day (Vietnamese days; every entry was made today).
    let around_today = query(AuditQuery {
        from: Some(today() - Duration::days(1)),
        to: Some(today() + Duration::days(1)),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(around_today.total, all.len() as i64);
    let until_today = query(AuditQuery {
        to: Some(today()),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(
        until_today.total,
        all.len() as i64,
        "`to` includes the whole day"
    );
    let past = query(AuditQuery {
        to: Some(today() - Duration::days(2)),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(past.total, 0);
    let future = query(AuditQuery {
        from: Some(today() + Duration::days(2)),
        ..AuditQuery::default()
    })
    .await;
    assert_eq!(future.total, 0);

    // Paging, newest first.
    let page = store
        .audit_log(
            &Actor::system(),
            &AuditQuery {
                limit: 2,
                offset: 1,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, all.len() as i64);
    assert_eq!(seqs(&page.items), seqs(&all[1..3]));
    assert_eq!(
        store.verify_audit(&|_| {}).await.unwrap(),
        Ok(all.len() as u64)
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Concurrency

pub async fn concurrent_writes_keep_one_chain(store: Arc<dyn Store>) {
    let g = import_fixture_geo(store.as_ref()).await;
    let start = audit_total(store.as_ref()).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let unit = g.lang_cong.id;
            tokio::spawn(async move {
                store
                    .create_organisation(
                        &Actor::system(),
                        &OrganisationInput {
                            name: format!("Trường số {i}"),
                            kind: OrgKind::School,
                            admin_unit_id: unit,
                        },
                    )
                    .await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        let org = task
            .await
            .expect("the task ran")
            .expect("the write succeeded");
        ids.insert(org.id);
    }
    assert_eq!(ids.len(), 20);
    let listed = store
        .list_organisations(&OrganisationQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 20);
    let total = audit_total(store.as_ref()).await;
    assert_eq!(total, start + 20, "one entry per write");
    assert_eq!(
        store.verify_audit(&|_| {}).await.unwrap(),
        Ok(total as u64),
        "the chain did not fork"
    );
    let entries = audit_all(store.as_ref()).await;
    let seqs: BTreeSet<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=total).collect::<BTreeSet<_>>());
    let targets: BTreeSet<Uuid> = entries
        .iter()
        .filter(|e| e.action == "organisation.create")
        .filter_map(|e| e.target_id)
        .collect();
    assert_eq!(targets, ids);
}

/// `verify_audit` reads one consistent state of the chain even while writes go on, so a
/// check run on a live system never reports a break that is not there.
pub async fn verify_during_writes_sees_a_whole_chain(store: Arc<dyn Store>) {
    let g = import_fixture_geo(store.as_ref()).await;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let store = store.clone();
            let unit = g.na_hang.id;
            tokio::spawn(async move {
                for i in 0..25 {
                    store
                        .create_organisation(
                            &Actor::system(),
                            &OrganisationInput {
                                name: format!("Đơn vị {w}-{i}"),
                                kind: OrgKind::Other,
                                admin_unit_id: unit,
                            },
                        )
                        .await
                        .expect("the write succeeded");
                }
            })
        })
        .collect();
    let mut last = 0u64;
    let mut checks = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        let checked = store
            .verify_audit(&|_| {})
            .await
            .unwrap()
            .unwrap_or_else(|b| {
                panic!("verify during writes reported {b:?} after {checks} checks")
            });
        assert!(checked >= last, "the chain never shrinks");
        last = checked;
        checks += 1;
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.expect("the writer finished");
    }
    assert_eq!(
        store.verify_audit(&|_| {}).await.unwrap(),
        Ok(audit_total(store.as_ref()).await as u64)
    );
    assert_eq!(audit_total(store.as_ref()).await, 51);
}

/// Writes that read before they write (the next version number) are serialised: concurrent
/// additions all succeed, numbered 1, 2, 3... as they would be one after another.
pub async fn concurrent_regulations_get_distinct_versions(store: Arc<dyn Store>) {
    let k = cluster(store.as_ref(), "Cụm Sông Lô", date!(2018 - 01 - 24)).await;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .add_regulation(
                        &Actor::system(),
                        k.id,
                        &regulation(
                            &format!("Quy chế {i}"),
                            date!(2018 - 01 - 24),
                            &["UBND huyện Sông Lô"],
                        ),
                    )
                    .await
            })
        })
        .collect();
    let mut versions = Vec::new();
    for task in tasks {
        let added = task.await.expect("the task ran");
        versions.push(
            added
                .unwrap_or_else(|e| panic!("a concurrent addition failed: {e:?}"))
                .version,
        );
    }
    versions.sort();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let detail = store.cluster(&Actor::system(), k.id).await.unwrap();
    assert_eq!(
        detail
            .regulations
            .iter()
            .map(|r| r.version)
            .collect::<Vec<_>>(),
        [6, 5, 4, 3, 2, 1]
    );
}

/// The overlap rule holds under concurrency: of several overlapping memberships of one
/// organisation added at once, exactly one is stored.
pub async fn concurrent_overlapping_joins_admit_one(store: Arc<dyn Store>) {
    let g = import_fixture_geo(store.as_ref()).await;
    let a = organisation(store.as_ref(), "Công an huyện Sơn Dương", &g.son_duong).await;
    let k = cluster(store.as_ref(), "Cụm Sông Lô", date!(2018 - 01 - 24)).await;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            let input = membership(&a, date!(2018 - 02 - 01) + Duration::days(i), None);
            tokio::spawn(async move { store.add_member(&Actor::system(), k.id, &input).await })
        })
        .collect();
    let mut stored = 0;
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(_) => stored += 1,
            Err(StoreError::Invalid(errors)) => assert!(
                errors.iter().any(|e| e.key == "error-membership-overlap"),
                "{errors:?}"
            ),
            Err(e) => panic!("expected success or an overlap error, got {e:?}"),
        }
    }
    let members = store.cluster(&Actor::system(), k.id).await.unwrap().members;
    assert_eq!(
        (stored, members.len()),
        (1, 1),
        "overlapping memberships were stored: {members:?}"
    );
}
