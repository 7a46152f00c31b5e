//! Concurrent writers: one audit chain, distinct regulation versions, one admitted join.

use std::collections::BTreeSet;
use std::sync::Arc;

use lienhoan_domain::access::Actor;
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use time::Duration;
use time::macros::date;
use uuid::Uuid;

use super::fixtures::*;
use crate::{OrganisationQuery, Store, StoreError};

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
