//! Clusters: creation, membership over time, scope and editing rights, board, standing-unit
//! rotation, coordination regulations.

use std::collections::BTreeSet;
use std::fmt::Debug;

use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::cluster::{
    BoardMemberInput, BoardRole, ClusterInput, ClusterKind, MembershipInput, RegulationInput,
    RotationTurn,
};
use lienhoan_domain::organisation::Organisation;
use time::macros::date;
use time::{Date, Duration};
use uuid::Uuid;

use super::fixtures::*;
use crate::{Store, StoreError, StoreResult};

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
