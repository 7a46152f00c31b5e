//! The audit log: every successful write appended once, nothing for refused writes, who reads
//! it, filters.

use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_domain::cluster::{BoardMemberInput, BoardRole, ClusterInput};
use lienhoan_domain::geo::{AdminLevel, NewHistoricalUnit};
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use time::Duration;
use time::macros::date;
use uuid::Uuid;

use super::fixtures::*;
use crate::{AuditQuery, AuditView, OrganisationQuery, Store};

// ---------------------------------------------------------------------------------------------
// 9. Audit

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
