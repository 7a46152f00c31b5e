//! Incidents: bad input names its field and writes nothing, every write audited with before
//! and after, who edits and who deletes, the status workflow, list filters and pagination, and
//! exactly who sees which incident.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::cluster::Cluster;
use lienhoan_domain::format::local_date;
use lienhoan_domain::geo::AdminUnit;
use lienhoan_domain::incident::{Incident, IncidentInput, Outcome, Status};
use lienhoan_domain::organisation::{Organisation, OrganisationInput};
use lienhoan_domain::stats::{Dimension, Figures};
use serde_json::json;
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::fixtures::*;
use crate::{AuditQuery, IncidentQuery, StatisticsQuery, Store, StoreError, StoreResult};

// ---------------------------------------------------------------------------------------------
// 11. Incidents

#[track_caller]
fn invalid_field<T: Debug>(label: &str, result: StoreResult<T>, field: &str, key: &str) {
    match result {
        Err(StoreError::Invalid(errors)) => assert!(
            errors.iter().any(|e| e.field == field && e.key == key),
            "{label}: expected {key} on {field:?}, got {errors:?}"
        ),
        other => panic!("{label}: expected Invalid ({key} on {field:?}), got {other:?}"),
    }
}

/// Everything a refused write must leave alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    incidents: Vec<Incident>,
    audit_entries: i64,
    figures: BTreeMap<Vec<String>, Figures>,
    total: Figures,
}

async fn snapshot(store: &dyn Store, cluster: &Cluster) -> Snapshot {
    let stats = statistics_of(
        store,
        &Actor::system(),
        &statistics_query(
            cluster,
            date!(2000 - 01 - 01),
            today(),
            &[
                Dimension::Unit,
                Dimension::Category,
                Dimension::Outcome,
                Dimension::Month,
            ],
        ),
    )
    .await;
    Snapshot {
        incidents: all_incidents(store, IncidentQuery::default())
            .await
            .into_iter()
            .map(|v| v.incident)
            .collect(),
        audit_entries: audit_total(store).await,
        figures: figures_by_key(&stats),
        total: stats.total,
    }
}

pub async fn incident_validation_names_the_field_and_writes_nothing(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let c = organisation(store, "Công an xã Lãng Công", &g.geo.lang_cong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(store, &k, &c, date!(2018 - 01 - 24), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let officer_c = user(store, "can.bo.c", Some(&c), Role::Officer).await;

    // A district organisation records in every commune under it; a commune organisation in
    // its own commune.
    let base = incident_input(
        &g.tu_thinh,
        datetime!(2019-05-01 20:00 +07:00),
        "criminal.theft",
    );
    let kept_a = record_incident(store, &officer_a, &a, &base).await;
    let in_hop_thanh = IncidentInput {
        commune_id: g.hop_thanh.id,
        ..base.clone()
    };
    record_incident(store, &officer_a, &a, &in_hop_thanh).await;
    let base_c = IncidentInput {
        commune_id: g.geo.lang_cong.id,
        ..base.clone()
    };
    let kept_c = record_incident(store, &officer_c, &c, &base_c).await;

    let before = snapshot(store, &k).await;
    assert_eq!(before.incidents.len(), 3);
    assert_eq!(before.total.incidents, 3);

    let future = OffsetDateTime::now_utc() + Duration::days(2);
    let with = |base: &IncidentInput, change: &dyn Fn(&mut IncidentInput)| {
        let mut input = base.clone();
        change(&mut input);
        input
    };
    let cases_a: Vec<(&str, IncidentInput, &str, &str)> = vec![
        (
            "occurred in the future",
            with(&base, &|i| {
                i.occurred_at = future;
                i.reported_at = future + Duration::hours(1);
            }),
            "occurred_at",
            "error-date-in-future",
        ),
        (
            "reported in the future",
            with(&base, &|i| i.reported_at = future),
            "reported_at",
            "error-date-in-future",
        ),
        (
            "reported before it occurred",
            with(&base, &|i| {
                i.reported_at = i.occurred_at - Duration::minutes(1)
            }),
            "reported_at",
            "error-reported-before-occurred",
        ),
        (
            "negative suspects",
            with(&base, &|i| i.suspects = -1),
            "suspects",
            "error-negative",
        ),
        (
            "negative victims",
            with(&base, &|i| i.victims = -1),
            "victims",
            "error-negative",
        ),
        (
            "negative deaths",
            with(&base, &|i| i.deaths = -1),
            "deaths",
            "error-negative",
        ),
        (
            "negative injured",
            with(&base, &|i| i.injured = -3),
            "injured",
            "error-negative",
        ),
        (
            "negative damage",
            with(&base, &|i| i.damage_vnd = -5_000),
            "damage_vnd",
            "error-negative",
        ),
        (
            "negative people prosecuted",
            with(&base, &|i| {
                i.outcome = Outcome::Prosecuted;
                i.outcome_people = -2;
            }),
            "outcome_people",
            "error-negative",
        ),
        (
            "unknown category",
            with(&base, &|i| i.category = "criminal.piracy".into()),
            "category",
            "error-unknown-category",
        ),
        (
            "a group is not a category",
            with(&base, &|i| i.category = "criminal".into()),
            "category",
            "error-unknown-category",
        ),
        (
            "category codes are exact",
            with(&base, &|i| i.category = "Criminal.Theft".into()),
            "category",
            "error-unknown-category",
        ),
        (
            "no category",
            with(&base, &|i| i.category = String::new()),
            "category",
            "error-unknown-category",
        ),
        (
            "people without an outcome",
            with(&base, &|i| i.outcome_people = 2),
            "outcome_people",
            "error-people-without-outcome",
        ),
        (
            "latitude outside Vietnam",
            with(&base, &|i| i.latitude = Some(40.0)),
            "latitude",
            "error-outside-vietnam",
        ),
        (
            "a commune of another district",
            with(&base, &|i| i.commune_id = g.geo.lang_cong.id),
            "commune_id",
            "error-commune-outside-area",
        ),
        (
            "a commune of another district of the province",
            with(&base, &|i| i.commune_id = g.geo.son_phu.id),
            "commune_id",
            "error-commune-outside-area",
        ),
        (
            "the organisation's district is no commune",
            with(&base, &|i| i.commune_id = g.geo.son_duong.id),
            "commune_id",
            "error-commune-outside-area",
        ),
        (
            "the province is no commune",
            with(&base, &|i| i.commune_id = g.geo.tuyen_quang.id),
            "commune_id",
            "error-commune-outside-area",
        ),
        (
            "a commune of the 2025 list elsewhere",
            with(&base, &|i| i.commune_id = g.geo.hong_thai.id),
            "commune_id",
            "error-commune-outside-area",
        ),
        (
            "a unit that does not exist",
            with(&base, &|i| i.commune_id = Uuid::now_v7()),
            "commune_id",
            "error-commune-outside-area",
        ),
    ];
    for (label, input, field, key) in &cases_a {
        invalid_field(
            &format!("create: {label}"),
            store.create_incident(&officer_a, a.id, input).await,
            field,
            key,
        );
        invalid_field(
            &format!("edit: {label}"),
            store.update_incident(&officer_a, kept_a.id, input).await,
            field,
            key,
        );
    }
    // An admin records for any organisation, but only in its area.
    invalid_field(
        "admin: a commune of another district",
        store.create_incident(&Actor::system(), a.id, &base_c).await,
        "commune_id",
        "error-commune-outside-area",
    );

    // A commune organisation records only in its own commune.
    let cases_c: Vec<(&str, IncidentInput)> = vec![
        (
            "a neighbouring commune of the district",
            with(&base_c, &|i| i.commune_id = g.quang_yen.id),
        ),
        (
            "the district of the commune",
            with(&base_c, &|i| i.commune_id = g.geo.song_lo.id),
        ),
        (
            "a commune of another district",
            with(&base_c, &|i| i.commune_id = g.tu_thinh.id),
        ),
    ];
    for (label, input) in &cases_c {
        invalid_field(
            &format!("commune organisation, create: {label}"),
            store.create_incident(&officer_c, c.id, input).await,
            "commune_id",
            "error-commune-outside-area",
        );
        invalid_field(
            &format!("commune organisation, edit: {label}"),
            store.update_incident(&officer_c, kept_c.id, input).await,
            "commune_id",
            "error-commune-outside-area",
        );
    }

    let after = snapshot(store, &k).await;
    assert_eq!(
        after, before,
        "refused incidents changed records, audit or counters"
    );
    assert_eq!(
        store
            .incident(&officer_a, kept_a.id)
            .await
            .unwrap()
            .incident,
        kept_a
    );
}

pub async fn incident_writes_are_audited_with_before_and_after(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;

    let input = IncidentInput {
        place: "Chợ Tú Thịnh".into(),
        narrative: "Trộm cắp xe máy".into(),
        suspects: 1,
        victims: 1,
        damage_vnd: 18_000_000,
        latitude: Some(21.712345),
        longitude: Some(105.401234),
        ..incident_input(
            &g.tu_thinh,
            datetime!(2019-05-01 20:00 +07:00),
            "criminal.theft",
        )
    };
    let created = audited_once(
        store,
        &officer_a,
        "incident.create",
        None,
        store.create_incident(&officer_a, a.id, &input),
    )
    .await;
    assert_eq!(created.organisation_id, a.id);
    assert_eq!(created.input.category, "criminal.theft");
    assert_eq!(created.input.place, "Chợ Tú Thịnh");
    assert_eq!(created.input.damage_vnd, 18_000_000);
    assert_eq!(created.input.occurred_at, input.occurred_at);
    let seen = store.incident(&officer_a, created.id).await.unwrap();
    assert_eq!(seen.incident, created, "what was recorded reads back");
    assert_eq!(seen.organisation_name, "Công an huyện Sơn Dương");
    assert_eq!(seen.commune_name, "Xã Tú Thịnh");
    assert!(
        !seen.shared,
        "an incident that is not cross-border is not shared"
    );

    // Names are remembered for a moment; a rename through this process shows at once, in
    // lists, in an incident and in the labels of figures by unit.
    let unit_labels = || async {
        let query = StatisticsQuery {
            cluster_id: None,
            from: date!(2019 - 01 - 01),
            to: date!(2019 - 12 - 31),
            group_by: vec![Dimension::Unit],
            compare_previous_year: false,
        };
        let stats = statistics_of(store, &Actor::system(), &query).await;
        let labels: BTreeSet<String> = stats
            .rows
            .into_iter()
            .map(|r| r.labels[0].clone())
            .collect();
        labels
    };
    assert_eq!(unit_labels().await, BTreeSet::from([a.name.clone()]));
    let rename = |name: &str| OrganisationInput {
        name: name.into(),
        kind: a.kind,
        admin_unit_id: a.admin_unit_id,
    };
    let renamed = "Công an huyện Sơn Dương (đổi tên)";
    store
        .update_organisation(&Actor::system(), a.id, &rename(renamed))
        .await
        .unwrap();
    let listed = store
        .list_incidents(&officer_a, &IncidentQuery::default())
        .await
        .unwrap();
    let names: BTreeSet<&str> = listed
        .items
        .iter()
        .map(|v| v.organisation_name.as_str())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([renamed]),
        "a list shows the new name"
    );
    let seen_renamed = store.incident(&officer_a, created.id).await.unwrap();
    assert_eq!(seen_renamed.organisation_name, renamed);
    assert_eq!(seen_renamed.commune_name, "Xã Tú Thịnh");
    assert_eq!(
        unit_labels().await,
        BTreeSet::from([renamed.to_owned()]),
        "figures by unit show the new name"
    );
    store
        .update_organisation(&Actor::system(), a.id, &rename(&a.name))
        .await
        .unwrap();

    let edited_input = IncidentInput {
        category: "criminal.drugs".into(),
        deaths: 1,
        status: Status::Verifying,
        narrative: "Tàng trữ trái phép chất ma túy".into(),
        commune_id: g.hop_thanh.id,
        ..input.clone()
    };
    let edited = audited_once(
        store,
        &officer_a,
        "incident.update",
        Some(created.id),
        store.update_incident(&officer_a, created.id, &edited_input),
    )
    .await;
    assert_eq!(edited.id, created.id);
    assert_eq!(edited.organisation_id, a.id);
    assert_eq!(edited.created_at, created.created_at);
    assert!(edited.updated_at >= created.updated_at);
    assert_eq!(edited.input.category, "criminal.drugs");
    assert_eq!(edited.input.commune_id, g.hop_thanh.id);
    assert_eq!(
        store
            .incident(&officer_a, created.id)
            .await
            .unwrap()
            .incident,
        edited
    );

    audited_once(
        store,
        &commander_a,
        "incident.delete",
        Some(created.id),
        store.delete_incident(&commander_a, created.id, "  Nhập trùng với vụ khác "),
    )
    .await;
    not_found(store.incident(&commander_a, created.id).await);

    let trail = store
        .audit_log(
            &Actor::system(),
            &AuditQuery {
                target_id: Some(created.id),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["incident.delete", "incident.update", "incident.create"]
    );
    let (delete, update, create) = (
        &trail.items[0].summary,
        &trail.items[1].summary,
        &trail.items[2].summary,
    );
    assert!(
        create.get("before").is_none_or(|b| b.is_null()),
        "a creation has nothing before: {create}"
    );
    assert_eq!(create["after"]["id"], json!(created.id), "{create}");
    assert_eq!(create["after"]["organisation_id"], json!(a.id), "{create}");
    assert_eq!(create["after"]["category"], "criminal.theft", "{create}");
    assert_eq!(create["after"]["damage_vnd"], 18_000_000, "{create}");
    assert_eq!(create["after"]["place"], "Chợ Tú Thịnh", "{create}");
    for (field, before, after) in [
        ("category", json!("criminal.theft"), json!("criminal.drugs")),
        ("deaths", json!(0), json!(1)),
        ("status", json!("received"), json!("verifying")),
        ("commune_id", json!(g.tu_thinh.id), json!(g.hop_thanh.id)),
        (
            "narrative",
            json!("Trộm cắp xe máy"),
            json!("Tàng trữ trái phép chất ma túy"),
        ),
        ("suspects", json!(1), json!(1)),
    ] {
        assert_eq!(update["before"][field], before, "{field} before: {update}");
        assert_eq!(update["after"][field], after, "{field} after: {update}");
    }
    assert_eq!(delete["before"]["id"], json!(created.id), "{delete}");
    assert_eq!(delete["before"]["category"], "criminal.drugs", "{delete}");
    assert_eq!(
        delete["reason"].as_str().map(str::trim),
        Some("Nhập trùng với vụ khác"),
        "{delete}"
    );
}

pub async fn incident_deletion_needs_a_commander_and_a_reason(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(store, &k, &b, date!(2018 - 01 - 24), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let coordinator_a = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let commander_b = user(store, "chi.huy.b", Some(&b), Role::Commander).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    let shared = record_incident(
        store,
        &officer_a,
        &a,
        &IncidentInput {
            cross_border: true,
            ..incident_input(
                &g.tu_thinh,
                datetime!(2019-05-01 20:00 +07:00),
                "illegal_exit.crossing",
            )
        },
    )
    .await;
    let private = record_incident(
        store,
        &officer_a,
        &a,
        &incident_input(
            &g.hop_thanh,
            datetime!(2019-06-01 08:00 +07:00),
            "criminal.theft",
        ),
    )
    .await;
    store
        .incident(&commander_b, shared.id)
        .await
        .expect("the cross-border incident is shared with the cluster");

    let before = snapshot(store, &k).await;
    let reason = "Nhập trùng";
    forbidden(store.delete_incident(&officer_a, shared.id, reason).await);
    forbidden(
        store
            .delete_incident(&coordinator_a, shared.id, reason)
            .await,
    );
    forbidden(store.delete_incident(&commander_b, shared.id, reason).await);
    forbidden(store.delete_incident(&auditor, shared.id, reason).await);
    hidden_or_forbidden(
        store
            .delete_incident(&commander_b, private.id, reason)
            .await,
    );
    invalid_key(
        store.delete_incident(&commander_a, shared.id, "").await,
        "reason",
        "error-required",
    );
    invalid_key(
        store.delete_incident(&commander_a, shared.id, "   ").await,
        "reason",
        "error-required",
    );
    not_found(
        store
            .delete_incident(&commander_a, Uuid::now_v7(), reason)
            .await,
    );
    assert_eq!(
        snapshot(store, &k).await,
        before,
        "refused deletions changed something"
    );

    audited_once(
        store,
        &commander_a,
        "incident.delete",
        Some(shared.id),
        store.delete_incident(&commander_a, shared.id, reason),
    )
    .await;
    not_found(store.incident(&commander_a, shared.id).await);
    not_found(store.incident(&admin, shared.id).await);
    not_found(store.delete_incident(&commander_a, shared.id, reason).await);
    let after = snapshot(store, &k).await;
    assert_eq!(
        incident_ids_of(&after.incidents),
        BTreeSet::from([private.id])
    );
    assert_eq!(
        after.total.incidents, 1,
        "the counters forget the deleted one"
    );

    // An admin deletes any incident, also with a reason.
    invalid_key(
        store.delete_incident(&admin, private.id, "").await,
        "reason",
        "error-required",
    );
    audited_once(
        store,
        &admin,
        "incident.delete",
        Some(private.id),
        store.delete_incident(&admin, private.id, "Sai đơn vị"),
    )
    .await;
    let after = snapshot(store, &k).await;
    assert!(after.incidents.is_empty());
    assert_eq!(after.total, Figures::default());
    assert!(after.figures.is_empty(), "{:?}", after.figures);
}

fn incident_ids_of(incidents: &[Incident]) -> BTreeSet<Uuid> {
    incidents.iter().map(|i| i.id).collect()
}

pub async fn editing_other_organisations_incidents_is_forbidden(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let x = organisation(store, "Công an huyện Na Hang", &g.geo.na_hang).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(store, &k, &b, date!(2018 - 01 - 24), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let coordinator_a = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let officer_b = user(store, "can.bo.b", Some(&b), Role::Officer).await;
    let commander_b = user(store, "chi.huy.b", Some(&b), Role::Commander).await;
    let coordinator_b = user(store, "dieu.phoi.b", Some(&b), Role::Coordinator).await;
    let officer_x = user(store, "can.bo.x", Some(&x), Role::Officer).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;

    let shared_input = IncidentInput {
        cross_border: true,
        narrative: "Xuất cảnh trái phép qua đường mòn".into(),
        ..incident_input(
            &g.tu_thinh,
            datetime!(2019-05-01 20:00 +07:00),
            "illegal_exit.crossing",
        )
    };
    let shared = record_incident(store, &officer_a, &a, &shared_input).await;
    let private_input = incident_input(
        &g.hop_thanh,
        datetime!(2019-06-01 08:00 +07:00),
        "criminal.theft",
    );
    let private = record_incident(store, &officer_a, &a, &private_input).await;

    let before = snapshot(store, &k).await;
    let change = IncidentInput {
        deaths: 2,
        ..shared_input.clone()
    };
    for actor in [&officer_b, &commander_b, &coordinator_b] {
        let seen = store
            .incident(actor, shared.id)
            .await
            .unwrap_or_else(|e| panic!("{} sees the shared incident: {e:?}", actor.username));
        assert!(seen.shared);
        forbidden(store.update_incident(actor, shared.id, &change).await);
        hidden_or_forbidden(
            store
                .update_incident(actor, private.id, &private_input)
                .await,
        );
    }
    // The auditor sees everything and writes nothing.
    store.incident(&auditor, private.id).await.unwrap();
    forbidden(store.update_incident(&auditor, shared.id, &change).await);
    forbidden(store.create_incident(&auditor, a.id, &private_input).await);
    // An organisation outside the cluster sees neither.
    not_found(store.incident(&officer_x, shared.id).await);
    hidden_or_forbidden(store.update_incident(&officer_x, shared.id, &change).await);
    // Nobody records for another organisation, and not in another organisation's area.
    forbidden(
        store
            .create_incident(&officer_b, a.id, &private_input)
            .await,
    );
    invalid_field(
        "B records in A's commune",
        store
            .create_incident(&officer_b, b.id, &private_input)
            .await,
        "commune_id",
        "error-commune-outside-area",
    );
    assert_eq!(
        snapshot(store, &k).await,
        before,
        "refused edits changed something"
    );

    // The owner's officers and coordinators edit.
    let edited = store
        .update_incident(&coordinator_a, shared.id, &change)
        .await
        .expect("a coordinator of the owner edits");
    assert_eq!(edited.input.deaths, 2);
    assert_eq!(
        store
            .incident(&officer_b, shared.id)
            .await
            .unwrap()
            .incident,
        edited,
        "the neighbour sees the edit"
    );
}

pub async fn incident_status_workflow(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let input = incident_input(
        &g.tu_thinh,
        datetime!(2019-05-01 20:00 +07:00),
        "criminal.theft",
    );
    let incident = record_incident(store, &officer_a, &a, &input).await;
    use Status::*;
    let steps = [
        (Verifying, true),
        (Received, false),
        (Investigating, true),
        (Verifying, false),
        (Received, false),
        (Investigating, true),
        (Solved, true),
        (Closed, true),
        (Transferred, true),
        (Received, false),
        (Verifying, false),
        (Investigating, true),
        (Closed, true),
    ];
    let mut current = Received;
    for (next, allowed) in steps {
        let audit_before = audit_total(store).await;
        let result = store
            .update_incident(
                &officer_a,
                incident.id,
                &IncidentInput {
                    status: next,
                    ..input.clone()
                },
            )
            .await;
        if allowed {
            let updated = result.unwrap_or_else(|e| panic!("{current:?} → {next:?}: {e:?}"));
            assert_eq!(updated.input.status, next);
            assert_eq!(audit_total(store).await, audit_before + 1);
            current = next;
        } else {
            match result {
                Err(StoreError::Invalid(errors)) => {
                    let error = errors
                        .iter()
                        .find(|e| e.field == "status")
                        .unwrap_or_else(|| panic!("{current:?} → {next:?}: {errors:?}"));
                    assert_eq!(error.key, "error-status-transition", "{errors:?}");
                    assert!(
                        error
                            .args
                            .iter()
                            .any(|(name, value)| *name == "from" && value == current.as_str()),
                        "the error names the status it cannot leave: {errors:?}"
                    );
                }
                other => panic!("{current:?} → {next:?}: expected Invalid, got {other:?}"),
            }
            assert_eq!(
                audit_total(store).await,
                audit_before,
                "{current:?} → {next:?}"
            );
        }
        assert_eq!(
            store
                .incident(&officer_a, incident.id)
                .await
                .unwrap()
                .incident
                .input
                .status,
            current
        );
    }
}

/// Incidents of the list-filter case, by label.
struct Recorded {
    ids: BTreeMap<&'static str, Uuid>,
    occurred: BTreeMap<Uuid, OffsetDateTime>,
}

impl Recorded {
    fn ids(&self, labels: &[&str]) -> BTreeSet<Uuid> {
        labels
            .iter()
            .map(|l| *self.ids.get(l).unwrap_or_else(|| panic!("no incident {l}")))
            .collect()
    }
}

pub async fn incident_list_filters(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    // A is a member throughout, B left on 1 January 2020, C joined on 1 January 2021, X never.
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let c = organisation(store, "Công an huyện Na Hang", &g.geo.na_hang).await;
    let x = organisation(store, "Công an xã Lãng Công", &g.geo.lang_cong).await;
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
    join(store, &k, &c, date!(2021 - 01 - 01), None).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    struct Row {
        label: &'static str,
        org: Organisation,
        commune: Uuid,
        occurred_at: OffsetDateTime,
        category: &'static str,
        status: Status,
        outcome: Outcome,
        people: i64,
        place: &'static str,
        narrative: &'static str,
    }
    let row = |label, org: &Organisation, commune: Uuid, occurred_at, category| Row {
        label,
        org: org.clone(),
        commune,
        occurred_at,
        category,
        status: Status::Received,
        outcome: Outcome::None,
        people: 0,
        place: "",
        narrative: "",
    };
    let rows = [
        Row {
            status: Status::Solved,
            outcome: Outcome::Prosecuted,
            people: 2,
            place: "Chợ Tú Thịnh",
            narrative: "Vụ trộm cắp xe máy",
            ..row(
                "a1",
                &a,
                g.tu_thinh.id,
                datetime!(2019-03-10 22:00 +07:00),
                "criminal.theft",
            )
        },
        // 00:30 on 1 January 2020 in Vietnam is still 31 December 2019 in UTC.
        Row {
            status: Status::Investigating,
            narrative: "Tai nạn giao thông trên quốc lộ 2C",
            ..row(
                "a2",
                &a,
                g.hop_thanh.id,
                datetime!(2019-12-31 17:30 UTC),
                "traffic.accident",
            )
        },
        Row {
            place: "Thôn Đồng Giang",
            narrative: "Tàng trữ trái phép chất ma túy",
            ..row(
                "a3",
                &a,
                g.tu_thinh.id,
                datetime!(2021-06-15 09:00 +07:00),
                "criminal.drugs",
            )
        },
        Row {
            status: Status::Closed,
            outcome: Outcome::Sanctioned,
            people: 1,
            narrative: "TRỘM CẮP tài sản",
            ..row(
                "b1",
                &b,
                g.geo.lang_cong.id,
                datetime!(2019-07-01 14:00 +07:00),
                "criminal.theft",
            )
        },
        Row {
            status: Status::Solved,
            outcome: Outcome::Sanctioned,
            people: 3,
            narrative: "Vi phạm hành chính về đất đai",
            ..row(
                "b2",
                &b,
                g.quang_yen.id,
                datetime!(2020-06-01 10:00 +07:00),
                "administrative.violation",
            )
        },
        // B's first day out of the cluster, by the Vietnamese day.
        Row {
            narrative: "Khiếu nại về ranh giới thửa đất",
            ..row(
                "b3",
                &b,
                g.quang_yen.id,
                datetime!(2019-12-31 17:45 UTC),
                "dispute.complaint",
            )
        },
        Row {
            status: Status::Transferred,
            outcome: Outcome::Prosecuted,
            people: 4,
            narrative: "Đánh bạc ăn tiền",
            ..row(
                "c1",
                &c,
                g.geo.son_phu.id,
                datetime!(2020-06-15 08:00 +07:00),
                "criminal.gambling",
            )
        },
        Row {
            status: Status::Verifying,
            narrative: "Nghi trộm cắp gia súc",
            ..row(
                "c2",
                &c,
                g.thuong_giap.id,
                datetime!(2021-03-01 20:00 +07:00),
                "criminal.theft",
            )
        },
        Row {
            status: Status::Closed,
            narrative: "Cháy nhà, thiệt hại 100% tài sản",
            ..row(
                "x1",
                &x,
                g.geo.lang_cong.id,
                datetime!(2019-08-08 08:00 +07:00),
                "fire.explosion",
            )
        },
    ];
    let mut recorded = Recorded {
        ids: BTreeMap::new(),
        occurred: BTreeMap::new(),
    };
    for r in &rows {
        let input = IncidentInput {
            status: r.status,
            outcome: r.outcome,
            outcome_people: r.people,
            place: r.place.into(),
            narrative: r.narrative.into(),
            commune_id: r.commune,
            ..incident_input(&g.tu_thinh, r.occurred_at, r.category)
        };
        let incident = record_incident(store, &admin, &r.org, &input).await;
        recorded.ids.insert(r.label, incident.id);
        recorded.occurred.insert(incident.id, r.occurred_at);
    }

    let q = || IncidentQuery::default();
    let cases: Vec<(&str, IncidentQuery, &[&str])> = vec![
        (
            "everything",
            q(),
            &["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "x1"],
        ),
        (
            "the year 2020, by the Vietnamese day",
            IncidentQuery {
                from: Some(date!(2020 - 01 - 01)),
                to: Some(date!(2020 - 12 - 31)),
                ..q()
            },
            &["a2", "b2", "b3", "c1"],
        ),
        (
            "up to the end of 2019",
            IncidentQuery {
                to: Some(date!(2019 - 12 - 31)),
                ..q()
            },
            &["a1", "b1", "x1"],
        ),
        (
            "one day, both ends included",
            IncidentQuery {
                from: Some(date!(2020 - 01 - 01)),
                to: Some(date!(2020 - 01 - 01)),
                ..q()
            },
            &["a2", "b3"],
        ),
        (
            "from a day on",
            IncidentQuery {
                from: Some(date!(2021 - 03 - 01)),
                ..q()
            },
            &["a3", "c2"],
        ),
        (
            "organisation",
            IncidentQuery {
                organisation_id: Some(b.id),
                ..q()
            },
            &["b1", "b2", "b3"],
        ),
        (
            "cluster: members on the incident's day only",
            IncidentQuery {
                cluster_id: Some(k.id),
                ..q()
            },
            &["a1", "a2", "a3", "b1", "c2"],
        ),
        (
            "cluster and period",
            IncidentQuery {
                cluster_id: Some(k.id),
                from: Some(date!(2020 - 01 - 01)),
                to: Some(date!(2020 - 12 - 31)),
                ..q()
            },
            &["a2"],
        ),
        (
            "category code",
            IncidentQuery {
                category: Some("criminal.theft".into()),
                ..q()
            },
            &["a1", "b1", "c2"],
        ),
        (
            "category group",
            IncidentQuery {
                category: Some("criminal".into()),
                ..q()
            },
            &["a1", "a3", "b1", "c1", "c2"],
        ),
        (
            "another category group",
            IncidentQuery {
                category: Some("traffic".into()),
                ..q()
            },
            &["a2"],
        ),
        (
            "part of a group name is no group",
            IncidentQuery {
                category: Some("crim".into()),
                ..q()
            },
            &[],
        ),
        (
            "part of a code is no code",
            IncidentQuery {
                category: Some("criminal.the".into()),
                ..q()
            },
            &[],
        ),
        (
            "category codes are exact, also in case",
            IncidentQuery {
                category: Some("CRIMINAL".into()),
                ..q()
            },
            &[],
        ),
        (
            "a percent sign is no category",
            IncidentQuery {
                category: Some("%".into()),
                ..q()
            },
            &[],
        ),
        (
            "an underscore is no wildcard in a category",
            IncidentQuery {
                category: Some("_riminal".into()),
                ..q()
            },
            &[],
        ),
        (
            "status",
            IncidentQuery {
                status: Some(Status::Closed),
                ..q()
            },
            &["b1", "x1"],
        ),
        (
            "another status",
            IncidentQuery {
                status: Some(Status::Solved),
                ..q()
            },
            &["a1", "b2"],
        ),
        (
            "outcome prosecuted",
            IncidentQuery {
                outcome: Some(Outcome::Prosecuted),
                ..q()
            },
            &["a1", "c1"],
        ),
        (
            "outcome sanctioned",
            IncidentQuery {
                outcome: Some(Outcome::Sanctioned),
                ..q()
            },
            &["b1", "b2"],
        ),
        (
            "no outcome",
            IncidentQuery {
                outcome: Some(Outcome::None),
                ..q()
            },
            &["a2", "a3", "b3", "c2", "x1"],
        ),
        (
            "text without diacritics",
            IncidentQuery {
                text: Some("trom cap".into()),
                ..q()
            },
            &["a1", "b1", "c2"],
        ),
        (
            "text with other diacritics and case",
            IncidentQuery {
                text: Some("  TRỘM   cắp ".into()),
                ..q()
            },
            &["a1", "b1", "c2"],
        ),
        (
            "text in the place",
            IncidentQuery {
                text: Some("dong giang".into()),
                ..q()
            },
            &["a3"],
        ),
        (
            "text: đ folds to d",
            IncidentQuery {
                text: Some("dat dai".into()),
                ..q()
            },
            &["b2"],
        ),
        (
            "text: a percent sign is literal",
            IncidentQuery {
                text: Some("%".into()),
                ..q()
            },
            &["x1"],
        ),
        (
            "text: an underscore is literal",
            IncidentQuery {
                text: Some("_".into()),
                ..q()
            },
            &[],
        ),
        (
            "text that is nowhere",
            IncidentQuery {
                text: Some("buôn người".into()),
                ..q()
            },
            &[],
        ),
        (
            "filters combine",
            IncidentQuery {
                cluster_id: Some(k.id),
                category: Some("criminal".into()),
                outcome: Some(Outcome::Prosecuted),
                ..q()
            },
            &["a1"],
        ),
        (
            "filters combine with text",
            IncidentQuery {
                text: Some("trom cap".into()),
                status: Some(Status::Verifying),
                organisation_id: Some(c.id),
                ..q()
            },
            &["c2"],
        ),
    ];
    // Every filter is tried before failing, so that one report names all that are wrong.
    let label_of: BTreeMap<Uuid, &str> = recorded.ids.iter().map(|(l, id)| (*id, *l)).collect();
    let labels = |ids: &BTreeSet<Uuid>| ids.iter().map(|id| label_of[id]).collect::<Vec<_>>();
    let mut failures = Vec::new();
    for (label, query, expected) in &cases {
        let page = store
            .list_incidents(&admin, query)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e:?}"));
        let expected = recorded.ids(expected);
        let got = incident_ids(&page.items);
        if got != expected || page.total != expected.len() as i64 {
            failures.push(format!(
                "{label} ({query:?}): listed {:?} (total {}), expected {:?}",
                labels(&got),
                page.total,
                labels(&expected)
            ));
        }
        // Newest first.
        let times: Vec<OffsetDateTime> = page
            .items
            .iter()
            .map(|v| v.incident.input.occurred_at)
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "{label}: newest first, got {times:?}"
        );
    }

    // Pages of three: the total stays, the pages do not overlap, together they are the list.
    let mut paged = Vec::new();
    for offset in [0, 3, 6, 9] {
        let page = store
            .list_incidents(
                &admin,
                &IncidentQuery {
                    limit: 3,
                    offset,
                    ..q()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, 9, "offset {offset}");
        let expected_len = (9 - offset).clamp(0, 3) as usize;
        assert_eq!(page.items.len(), expected_len, "offset {offset}");
        paged.extend(page.items.into_iter().map(|v| v.incident.id));
    }
    let mut newest_first: Vec<Uuid> = recorded.ids.values().copied().collect();
    newest_first.sort_by_key(|id| std::cmp::Reverse(recorded.occurred[id]));
    assert_eq!(
        paged, newest_first,
        "pages in order, without overlap or gap"
    );
    let page = store
        .list_incidents(
            &admin,
            &IncidentQuery {
                category: Some("criminal".into()),
                limit: 2,
                offset: 4,
                ..q()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.total, 5,
        "the total counts all pages of a filtered list"
    );
    assert_eq!(page.items.len(), 1);
    assert!(
        failures.is_empty(),
        "list filters that failed:\n{}",
        failures.join("\n")
    );
}

/// Who is asked in the visibility matrix.
struct Viewer {
    label: String,
    actor: Actor,
    /// Index into the matrix's organisations; `None` for admin and auditor.
    org: Option<usize>,
}

/// An incident of the owner (organisation 0) in the visibility matrix.
struct Case {
    label: String,
    incident: Incident,
    day: Date,
    shared: bool,
}

/// Membership as [from, until), if any.
type Window = Option<(Date, Option<Date>)>;

fn member_on(window: Window, day: Date) -> bool {
    window.is_some_and(|(from, until)| from <= day && until.is_none_or(|u| day < u))
}

/// The rule: everything for admin and auditor, its own incidents for the owner, and for
/// another organisation the shared incidents of a day both it and the owner were members.
fn sees(viewer: &Viewer, case: &Case, windows: &[Window]) -> bool {
    match viewer.org {
        None | Some(0) => true,
        Some(org) => {
            case.shared && member_on(windows[0], case.day) && member_on(windows[org], case.day)
        }
    }
}

/// Asks every viewer for every case, one by one and as a list.
async fn check_matrix(store: &dyn Store, viewers: &[Viewer], cases: &[Case], windows: &[Window]) {
    for viewer in viewers {
        let mut expected = BTreeSet::new();
        for case in cases {
            let result = store.incident(&viewer.actor, case.incident.id).await;
            if sees(viewer, case, windows) {
                let view = result
                    .unwrap_or_else(|e| panic!("{} must see {}: {e:?}", viewer.label, case.label));
                assert_eq!(view.incident, case.incident, "{}", case.label);
                assert_eq!(view.shared, case.shared, "{}", case.label);
                expected.insert(case.incident.id);
            } else {
                assert!(
                    matches!(result, Err(StoreError::NotFound)),
                    "{} must not see {}, got {result:?}",
                    viewer.label,
                    case.label
                );
            }
        }
        let listed = store
            .list_incidents(
                &viewer.actor,
                &IncidentQuery {
                    limit: crate::PAGE_MAX,
                    ..IncidentQuery::default()
                },
            )
            .await
            .unwrap();
        let labels = |ids: &BTreeSet<Uuid>| {
            cases
                .iter()
                .filter(|c| ids.contains(&c.incident.id))
                .map(|c| c.label.as_str())
                .collect::<Vec<_>>()
        };
        let got = incident_ids(&listed.items);
        assert_eq!(
            got,
            expected,
            "{} lists {:?}, must list {:?}",
            viewer.label,
            labels(&got),
            labels(&expected)
        );
        assert_eq!(listed.total, expected.len() as i64, "{}", viewer.label);

        // Filtered, in pages of two: every part's read, and the shared parts' joint read where
        // the engine has one, carries the filters.
        let wanted: BTreeSet<Uuid> = cases
            .iter()
            .filter(|c| expected.contains(&c.incident.id) && c.label.contains("by default"))
            .map(|c| c.incident.id)
            .collect();
        let mut paged = BTreeSet::new();
        for offset in (0..=wanted.len() as i64).step_by(2) {
            let page = store
                .list_incidents(
                    &viewer.actor,
                    &IncidentQuery {
                        text: Some("by default".into()),
                        category: Some("criminal".into()),
                        limit: 2,
                        offset,
                        ..IncidentQuery::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(
                page.total,
                wanted.len() as i64,
                "{} at {offset}",
                viewer.label
            );
            paged.extend(incident_ids(&page.items));
        }
        assert_eq!(
            paged,
            wanted,
            "{} pages {:?}, must page {:?}",
            viewer.label,
            labels(&paged),
            labels(&wanted)
        );
    }
}

pub async fn incident_visibility_matrix(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    // The owner is a member from 2018; another member from 2017 (before the owner); one joined
    // on 1 January 2021; one left on 1 January 2020; one was never in the cluster.
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2017 - 01 - 01)).await;
    let spec: [(&str, &str, &AdminUnit, Window); 5] = [
        (
            "owner",
            "Công an huyện Sơn Dương",
            &g.geo.son_duong,
            Some((date!(2018 - 01 - 01), None)),
        ),
        (
            "member",
            "Công an huyện Sông Lô",
            &g.geo.song_lo,
            Some((date!(2017 - 01 - 01), None)),
        ),
        (
            "joiner",
            "Công an huyện Na Hang",
            &g.geo.na_hang,
            Some((date!(2021 - 01 - 01), None)),
        ),
        (
            "leaver",
            "Công an xã Lãng Công",
            &g.geo.lang_cong,
            Some((date!(2017 - 06 - 01), Some(date!(2020 - 01 - 01)))),
        ),
        ("outsider", "Công an xã Sơn Phú", &g.geo.son_phu, None),
    ];
    let mut orgs = Vec::new();
    let mut windows = Vec::new();
    for (_, name, unit, window) in &spec {
        let org = organisation(store, name, unit).await;
        if let Some((from, until)) = window {
            join(store, &k, &org, *from, *until).await;
        }
        windows.push(*window);
        orgs.push(org);
    }

    let mut viewers = vec![
        Viewer {
            label: "admin".into(),
            actor: user(store, "quan.tri", None, Role::Admin).await,
            org: None,
        },
        Viewer {
            label: "auditor".into(),
            actor: user(store, "kiem.tra", None, Role::Auditor).await,
            org: None,
        },
    ];
    for (index, (label, ..)) in spec.iter().enumerate() {
        for role in [Role::Coordinator, Role::Commander, Role::Officer] {
            viewers.push(Viewer {
                label: format!("{} of {label}", role.as_str()),
                actor: user(
                    store,
                    &format!("{}.{label}", role.as_str()),
                    Some(&orgs[index]),
                    role,
                )
                .await,
                org: Some(index),
            });
        }
    }
    let officer_of = |org: usize| &viewers[2 + 3 * org + 2];
    let officer_owner = officer_of(0).actor.clone();

    let days = [
        (
            "2017, before the owner joined",
            datetime!(2017-06-15 10:00 +07:00),
        ),
        ("2019", datetime!(2019-06-15 10:00 +07:00)),
        ("2021", datetime!(2021-06-15 10:00 +07:00)),
        // 1 January 2020 in Vietnam, still 31 December 2019 in UTC: the leaver is gone.
        (
            "the leaver's first day out",
            datetime!(2019-12-31 17:30 UTC),
        ),
        // 1 January 2021 in Vietnam, still 31 December 2020 in UTC: the joiner is in.
        ("the joiner's first day", datetime!(2020-12-31 17:30 UTC)),
    ];
    // (label, cross-border, shared as entered, shared as it must be)
    let sharings: [(&str, bool, Option<bool>, bool); 4] = [
        ("shared", false, Some(true), true),
        ("cross-border, shared by default", true, None, true),
        ("not shared", false, None, false),
        ("cross-border, not shared", true, Some(false), false),
    ];
    let mut cases = Vec::new();
    for (day_label, occurred_at) in days {
        for (sharing, cross_border, shared_input, shared) in sharings {
            let input = IncidentInput {
                cross_border,
                shared: shared_input,
                narrative: format!("{day_label}, {sharing}"),
                ..incident_input(&g.tu_thinh, occurred_at, "criminal.theft")
            };
            cases.push(Case {
                label: format!("{day_label}, {sharing}"),
                incident: record_incident(store, &officer_owner, &orgs[0], &input).await,
                day: local_date(occurred_at),
                shared,
            });
        }
    }

    // The matrix spelled out for each organisation's officer.
    let count = |org: usize| {
        cases
            .iter()
            .filter(|c| sees(officer_of(org), c, &windows))
            .count()
    };
    assert_eq!(
        [0, 1, 2, 3, 4].map(count),
        [20, 8, 4, 2, 0],
        "owner: all; member: shared on the owner's member days; joiner: shared from its \
         first day; leaver: shared of 2019; outsider: none"
    );
    check_matrix(store, &viewers, &cases, &windows).await;

    // An edit that says nothing of sharing keeps what was decided, whatever the cross-border
    // flag says.
    for label in ["2019, shared", "2019, cross-border, not shared"] {
        let index = cases.iter().position(|c| c.label == label).unwrap();
        let input = IncidentInput {
            shared: None,
            injured: 1,
            ..cases[index].incident.input.clone()
        };
        cases[index].incident = store
            .update_incident(&officer_owner, cases[index].incident.id, &input)
            .await
            .unwrap();
        let view = store
            .incident(&officer_owner, cases[index].incident.id)
            .await
            .unwrap();
        assert_eq!(view.shared, cases[index].shared, "{label}: sharing kept");
    }
    check_matrix(store, &viewers, &cases, &windows).await;

    // Edits move an incident in and out of sight: a new sharing, a new date.
    let index = cases
        .iter()
        .position(|c| c.label == "2019, cross-border, shared by default")
        .unwrap();
    let mut input = cases[index].incident.input.clone();
    input.deaths = 1;
    cases[index].incident = store
        .update_incident(&officer_owner, cases[index].incident.id, &input)
        .await
        .unwrap();
    assert!(
        store
            .incident(&officer_of(1).actor, cases[index].incident.id)
            .await
            .unwrap()
            .shared,
        "an edit that says nothing of sharing keeps it"
    );
    input.shared = Some(false);
    cases[index].incident = store
        .update_incident(&officer_owner, cases[index].incident.id, &input)
        .await
        .unwrap();
    cases[index].shared = false;
    check_matrix(store, &viewers, &cases, &windows).await;
    input.shared = Some(true);
    input.occurred_at = datetime!(2021-06-16 10:00 +07:00);
    input.reported_at = input.occurred_at + Duration::hours(1);
    cases[index].incident = store
        .update_incident(&officer_owner, cases[index].incident.id, &input)
        .await
        .unwrap();
    cases[index].shared = true;
    cases[index].day = date!(2021 - 06 - 16);
    assert!(sees(officer_of(2), &cases[index], &windows));
    assert!(!sees(officer_of(3), &cases[index], &windows));
    check_matrix(store, &viewers, &cases, &windows).await;
}

/// A neighbour that shares two clusters with the owner over two separate windows sees the
/// shared incidents of both windows and nothing between them, in a list and in its pages.
pub async fn incidents_shared_over_two_windows(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let owner = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let neighbour = organisation(store, "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let first = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2017 - 01 - 01)).await;
    let second = cluster(store, "Cụm Sơn Dương – Sông Lô mới", date!(2021 - 01 - 01)).await;
    join(store, &first, &owner, date!(2017 - 01 - 01), None).await;
    join(
        store,
        &first,
        &neighbour,
        date!(2017 - 01 - 01),
        Some(date!(2019 - 01 - 01)),
    )
    .await;
    join(store, &second, &owner, date!(2021 - 01 - 01), None).await;
    join(store, &second, &neighbour, date!(2021 - 01 - 01), None).await;
    let officer_owner = user(store, "can.bo.sd", Some(&owner), Role::Officer).await;
    let officer_neighbour = user(store, "can.bo.sl", Some(&neighbour), Role::Officer).await;

    let mut seen = BTreeSet::new();
    for (at, shared, visible) in [
        (datetime!(2018-06-01 09:00 +07:00), true, true),
        (datetime!(2018-12-31 23:30 +07:00), true, true),
        (datetime!(2019-01-01 00:30 +07:00), true, false),
        (datetime!(2020-06-01 09:00 +07:00), true, false),
        (datetime!(2021-01-01 00:30 +07:00), true, true),
        (datetime!(2022-06-01 09:00 +07:00), true, true),
        (datetime!(2022-06-02 09:00 +07:00), false, false),
    ] {
        let input = IncidentInput {
            shared: Some(shared),
            narrative: format!("hai khoảng {at}"),
            ..incident_input(&g.tu_thinh, at, "criminal.theft")
        };
        let incident = record_incident(store, &officer_owner, &owner, &input).await;
        if visible {
            seen.insert(incident.id);
        }
    }

    let listed = store
        .list_incidents(&officer_neighbour, &IncidentQuery::default())
        .await
        .unwrap();
    assert_eq!(incident_ids(&listed.items), seen);
    assert_eq!(listed.total, seen.len() as i64);
    let mut paged = BTreeSet::new();
    for offset in 0..=seen.len() as i64 {
        let page = store
            .list_incidents(
                &officer_neighbour,
                &IncidentQuery {
                    text: Some("hai khoang".into()),
                    limit: 1,
                    offset,
                    ..IncidentQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.total, seen.len() as i64, "at {offset}");
        paged.extend(incident_ids(&page.items));
    }
    assert_eq!(paged, seen, "pages of one, searched without diacritics");

    // The neighbour's own incidents between the shared ones, one at the very instant of a
    // shared one: each page holds the newest that remain, whichever part they come from, with
    // and without filters.
    for (at, narrative) in [
        (datetime!(2017-03-01 09:00 +07:00), "hai khoảng riêng"),
        (datetime!(2018-07-01 09:00 +07:00), "riêng"),
        (datetime!(2021-06-01 09:00 +07:00), "hai khoảng riêng"),
        (datetime!(2022-06-01 09:00 +07:00), "hai khoảng riêng"),
        (datetime!(2022-07-01 09:00 +07:00), "hai khoảng riêng"),
    ] {
        let input = IncidentInput {
            narrative: narrative.into(),
            ..incident_input(&g.quang_yen, at, "criminal.theft")
        };
        record_incident(store, &officer_neighbour, &neighbour, &input).await;
    }
    let filters = [
        ("no filter", IncidentQuery::default(), seen.len() + 5),
        (
            "searched",
            IncidentQuery {
                text: Some("hai khoang".into()),
                ..IncidentQuery::default()
            },
            seen.len() + 4,
        ),
        (
            "from 2018-12-01",
            IncidentQuery {
                from: Some(date!(2018 - 12 - 01)),
                ..IncidentQuery::default()
            },
            seen.len() + 2,
        ),
    ];
    for (name, filter, count) in filters {
        let whole = store
            .list_incidents(&officer_neighbour, &filter)
            .await
            .unwrap()
            .items;
        assert_eq!(whole.len(), count, "{name}");
        assert!(
            whole.windows(2).all(
                |pair| pair[0].incident.input.occurred_at >= pair[1].incident.input.occurred_at
            ),
            "{name}: newest first"
        );
        let whole: Vec<Uuid> = whole.iter().map(|i| i.incident.id).collect();
        for limit in 1..=3 {
            let mut walked = Vec::new();
            for offset in (0..whole.len() as i64).step_by(limit) {
                let page = store
                    .list_incidents(
                        &officer_neighbour,
                        &IncidentQuery {
                            limit: limit as i64,
                            offset,
                            ..filter.clone()
                        },
                    )
                    .await
                    .unwrap();
                walked.extend(page.items.iter().map(|i| i.incident.id));
            }
            assert_eq!(walked, whole, "{name}: pages of {limit}");
        }
    }
}

/// An import of more incidents than a list counts: every incident lands in one transaction
/// with counters equal to the sum of what each incident contributes, a bad row refuses the
/// whole file, and lists stop counting at [`crate::COUNT_CAP`] past the page, searches of
/// words at [`crate::SEARCH_COUNT_CAP`].
pub async fn incident_import_counts_every_row_and_lists_cap_their_count(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let org = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let k = cluster(store, "Cụm Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &org, date!(2018 - 01 - 24), None).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    let categories = [
        "criminal.theft",
        "criminal.drugs",
        "administrative.violation",
    ];
    let rows = crate::COUNT_CAP as usize + 1;
    let inputs: Vec<IncidentInput> = (0..rows)
        .map(|n| {
            let commune = if n % 2 == 0 {
                &g.tu_thinh
            } else {
                &g.hop_thanh
            };
            // 23:30 in Vietnam: the previous day in UTC, so counters must use the local day.
            let occurred_at = vn_time(
                date!(2020 - 01 - 01) + Duration::days((n % 700) as i64),
                23,
                30,
            );
            let mut input = incident_input(commune, occurred_at, categories[n % 3]);
            input.suspects = (n % 4) as i64;
            input.damage_vnd = (n as i64) * 1_000;
            input.narrative = format!("Vụ {n}: mất trộm xe máy");
            if n % 5 == 0 {
                input.status = Status::Solved;
                input.outcome = Outcome::Prosecuted;
                input.outcome_people = 2;
            }
            input
        })
        .collect();
    let entries = audit_total(store).await;

    let mut refused = inputs.clone();
    refused[rows - 1].commune_id = g.quang_yen.id;
    invalid_field(
        "a commune outside the area",
        store
            .import_incidents(&admin, org.id, &refused, &|_| {})
            .await,
        &format!("{}.commune_id", rows - 1),
        "error-commune-outside-area",
    );
    assert_eq!(
        audit_total(store).await,
        entries,
        "a refused import writes nothing"
    );

    let mut reported = Vec::new();
    let imported = {
        let progress = std::sync::Mutex::new(&mut reported);
        store
            .import_incidents(&admin, org.id, &inputs, &|n| {
                progress.lock().unwrap().push(n)
            })
            .await
            .expect("the import is accepted")
    };
    assert_eq!(imported, rows as u64);
    assert_eq!(
        reported.last(),
        Some(&(rows as u64)),
        "progress ends at the row count"
    );
    assert!(
        reported.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows: {reported:?}"
    );
    assert_eq!(
        audit_total(store).await,
        entries + 1,
        "one entry for the whole import"
    );

    let mut expected: BTreeMap<Vec<String>, Figures> = BTreeMap::new();
    for input in &inputs {
        let incident = Incident {
            id: Uuid::nil(),
            organisation_id: org.id,
            input: input.clone(),
            created_at: datetime!(2026-01-01 0:00 UTC),
            updated_at: datetime!(2026-01-01 0:00 UTC),
        };
        let (key, figures) = lienhoan_domain::stats::contribution(&incident);
        let month = format!("{:04}-{:02}", key.day.year(), key.day.month() as u8);
        expected
            .entry(vec![key.category, month])
            .or_default()
            .add(&figures);
    }
    let stats = statistics_of(
        store,
        &admin,
        &statistics_query(
            &k,
            date!(2019 - 12 - 31),
            date!(2022 - 01 - 31),
            &[Dimension::Category, Dimension::Month],
        ),
    )
    .await;
    assert_eq!(figures_by_key(&stats), expected);
    assert_eq!(stats.total.incidents, rows as i64);

    let list = |viewer: &Actor, offset, category: Option<&str>, text: Option<&str>| {
        let query = IncidentQuery {
            limit: 5,
            offset,
            category: category.map(str::to_owned),
            text: text.map(str::to_owned),
            ..IncidentQuery::default()
        };
        let viewer = viewer.clone();
        async move { store.list_incidents(&viewer, &query).await.unwrap() }
    };
    let first = list(&admin, 0, None, None).await;
    assert_eq!((first.total, first.total_capped), (crate::COUNT_CAP, true));
    assert_eq!(first.items.len(), 5);
    let late = list(&admin, rows as i64 - 3, None, None).await;
    assert_eq!(
        (late.total, late.total_capped),
        (rows as i64, false),
        "counted past the page"
    );
    assert_eq!(late.items.len(), 3);
    let theft = list(&admin, 0, Some("criminal.theft"), None).await;
    assert_eq!(
        (theft.total, theft.total_capped),
        (rows.div_ceil(3) as i64, false),
        "a filter under the cap counts exactly"
    );
    let cap = crate::SEARCH_COUNT_CAP;
    assert!(cap < crate::COUNT_CAP && cap < rows as i64);
    let search = list(&admin, 0, None, Some("XE MAY")).await;
    assert_eq!((search.total, search.total_capped), (cap, true));
    // Counted from the first match to `cap` past the page's start, and one further.
    let search = list(&admin, rows as i64 - cap, None, Some("xe máy")).await;
    assert_eq!(
        (search.total, search.total_capped),
        (rows as i64, false),
        "a search counts past its page"
    );
    let search = list(&admin, rows as i64 - cap - 1, None, Some("xe máy")).await;
    assert_eq!((search.total, search.total_capped), (rows as i64 - 1, true));

    // An officer's list knows from the organisation's totals that its own incidents pass the
    // cap; the totals follow edits and deletions, and under the cap the list counts again.
    let officer = user(store, "can.bo", Some(&org), Role::Officer).await;
    let page = list(&officer, 0, None, None).await;
    assert_eq!((page.total, page.total_capped), (crate::COUNT_CAP, true));
    let edited = &page.items[0].incident;
    let mut input = edited.input.clone();
    input.category = "criminal.gambling".into();
    input.occurred_at -= Duration::days(400);
    store
        .update_incident(&admin, edited.id, &input)
        .await
        .expect("the edit is accepted");
    assert!(
        list(&officer, 0, None, None).await.total_capped,
        "an edit keeps the count"
    );
    // Over the cap still, a filter or a blank search must not take the totals' word for it.
    let gambling = list(&officer, 0, Some("criminal.gambling"), Some("")).await;
    assert_eq!((gambling.total, gambling.total_capped), (1, false));
    let blank = list(&officer, 0, None, Some("  ")).await;
    assert_eq!(
        (blank.total, blank.total_capped),
        (crate::COUNT_CAP, true),
        "blank words are no search"
    );
    let search = list(&officer, 0, None, Some("mất trộm")).await;
    assert_eq!((search.total, search.total_capped), (cap, true));
    let search = list(&officer, rows as i64 - cap - 1, None, Some("mất trộm")).await;
    assert_eq!(
        (search.total, search.total_capped, search.items.len()),
        (rows as i64 - 1, true, 5)
    );
    let narrow = list(&officer, 0, None, Some("vụ 10")).await;
    assert_eq!(
        (narrow.total, narrow.total_capped),
        (12, false),
        "vụ 10, 100–109 and 1000"
    );
    let late = list(&officer, rows as i64 - 3, None, None).await;
    assert_eq!(
        (late.total, late.total_capped, late.items.len()),
        (rows as i64, false, 3),
        "counted past the page"
    );
    store
        .delete_incident(&admin, page.items[1].incident.id, "Nhập trùng")
        .await
        .expect("the deletion is accepted");
    let under = list(&officer, 0, None, None).await;
    assert_eq!(
        (under.total, under.total_capped),
        (crate::COUNT_CAP, false),
        "counted exactly at the cap"
    );
}

/// The longest place and narrative the rules allow are recorded, edited and found by words at
/// their very end, and found by their new words once edited short again, on every engine:
/// PostgreSQL refuses an index entry over 2,704 bytes, so its indexes carry only short texts.
pub async fn the_longest_texts_are_recorded_and_found(store: &dyn Store) {
    use lienhoan_domain::validation::{NAME_MAX, TEXT_MAX};
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let officer = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    // Words in a varying order, as a narrative has them: PostgreSQL compresses a long entry,
    // and a repeated phrase would fit where real text does not.
    let filled = |seed: u64, end: &str, max: usize| -> String {
        const WORDS: [&str; 12] = [
            "đường",
            "liên",
            "xã",
            "sạt",
            "lở",
            "xe",
            "máy",
            "đêm",
            "mưa",
            "bờ",
            "suối",
            "người",
        ];
        let mut state = seed;
        let mut text = String::new();
        while text.chars().count() + end.chars().count() < max {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            text.push_str(WORDS[(state >> 33) as usize % WORDS.len()]);
            text.push(' ');
        }
        let room = max - end.chars().count();
        text.chars().take(room).chain(end.chars()).collect()
    };
    let mut input = IncidentInput {
        place: filled(1, " cầu Bợ", NAME_MAX),
        narrative: filled(2, " rồi dừng ở bến đò Khe Lau", TEXT_MAX),
        shared: Some(true),
        ..incident_input(
            &g.tu_thinh,
            datetime!(2019-05-01 20:00 +07:00),
            "criminal.theft",
        )
    };
    let incident = record_incident(store, &officer, &a, &input).await;
    input.narrative = filled(3, " lần thứ hai ở bến đò Khe Lau", TEXT_MAX);
    store
        .update_incident(&officer, incident.id, &input)
        .await
        .unwrap_or_else(|e| panic!("the longest narrative is accepted on edit: {e:?}"));
    let found = async |words: &str| {
        let page = store
            .list_incidents(
                &officer,
                &IncidentQuery {
                    text: Some(words.into()),
                    ..IncidentQuery::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("search {words}: {e:?}"));
        let ids: Vec<Uuid> = page.items.iter().map(|i| i.incident.id).collect();
        assert!(ids.is_empty() || ids == [incident.id], "{words}: {ids:?}");
        !ids.is_empty()
    };
    let longest = [
        ("lan thu hai o ben do Khe Lau", true),
        ("Lần thứ hai ở bến đò", true),
        ("cầu Bợ", true),
        ("dừng ở bến đò Khe Lau", false),
    ];
    for (words, expected) in longest {
        assert_eq!(found(words).await, expected, "{words}, longest texts");
    }
    // Edited back to short texts, which PostgreSQL's indexes carry.
    input.place = "Cầu Bợ".into();
    input.narrative = "Trộm cắp xe đạp".into();
    store
        .update_incident(&officer, incident.id, &input)
        .await
        .unwrap_or_else(|e| panic!("a short narrative is accepted on edit: {e:?}"));
    let short = [
        ("trom cap xe dap", true),
        ("cầu Bợ", true),
        ("lần thứ hai ở bến đò", false),
    ];
    for (words, expected) in short {
        assert_eq!(found(words).await, expected, "{words}, short texts");
    }
}
