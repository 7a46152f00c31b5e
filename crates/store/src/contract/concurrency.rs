//! Concurrent writers: one audit chain, distinct regulation versions, one admitted join,
//! incidents counted once.

use std::collections::BTreeSet;
use std::sync::Arc;

use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use lienhoan_domain::stats::Dimension;
use time::Duration;
use time::macros::date;
use uuid::Uuid;

use super::fixtures::*;
use crate::{OrganisationQuery, StatisticsQuery, Store, StoreError};

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

/// Incidents recorded at once, while a member's dates change, each count once: in the audit
/// chain, which does not fork, in the nation's figures, and in the cluster's for the days
/// each unit was a member, whichever write came first.
pub async fn concurrent_incidents_count_once(store: Arc<dyn Store>) {
    let g = import_incident_geo(store.as_ref()).await;
    let a = organisation(store.as_ref(), "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let b = organisation(store.as_ref(), "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let k = cluster(
        store.as_ref(),
        "Cụm Sông Lô – Sơn Dương",
        date!(2018 - 01 - 24),
    )
    .await;
    join(store.as_ref(), &k, &a, date!(2018 - 01 - 24), None).await;
    let b_membership = join(store.as_ref(), &k, &b, date!(2018 - 01 - 24), None).await;
    let admin = user(store.as_ref(), "quan.tri", None, Role::Admin).await;
    let mut tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            let admin = admin.clone();
            let (org, commune) = if i % 2 == 0 {
                (a.id, g.tu_thinh.clone())
            } else {
                (b.id, g.quang_yen.clone())
            };
            // A's incidents on 1, 3, 5 ... March 2020; B's on 2, 4 ... 24 March.
            let day = date!(2020 - 03 - 01) + Duration::days(i);
            let input = incident_input(&commune, vn_time(day, 10, 0), "criminal.theft");
            tokio::spawn(async move { store.create_incident(&admin, org, &input).await.map(drop) })
        })
        .collect();
    let moving = {
        let store = store.clone();
        let (cluster, org) = (k.id, b.clone());
        tokio::spawn(async move {
            // B leaves on 13 March: its six incidents before that stay in the cluster.
            let left = Some(date!(2020 - 03 - 13));
            store
                .update_member(
                    &Actor::system(),
                    cluster,
                    b_membership,
                    &membership(&org, date!(2018 - 01 - 24), left),
                )
                .await
                .map(drop)
        })
    };
    tasks.insert(12, moving);
    for task in tasks {
        task.await
            .expect("the task ran")
            .expect("the write succeeded");
    }
    let total = audit_total(store.as_ref()).await;
    assert_eq!(
        store.verify_audit(&|_| {}).await.unwrap(),
        Ok(total as u64),
        "the chain did not fork"
    );
    let year = |cluster: Option<Uuid>, group_by: &[Dimension]| StatisticsQuery {
        cluster_id: cluster,
        from: date!(2020 - 01 - 01),
        to: date!(2020 - 12 - 31),
        group_by: group_by.to_vec(),
        compare_previous_year: false,
    };
    let incidents = |query: StatisticsQuery| {
        let (store, admin) = (store.clone(), admin.clone());
        async move {
            statistics_of(store.as_ref(), &admin, &query)
                .await
                .total
                .incidents
        }
    };
    assert_eq!(incidents(year(None, &[Dimension::Category])).await, 24);
    for group_by in [
        &[Dimension::Category][..],
        &[Dimension::Unit],
        &[Dimension::Month],
    ] {
        assert_eq!(
            incidents(year(Some(k.id), group_by)).await,
            12 + 6,
            "cluster by {group_by:?}"
        );
    }
}
