//! Organisations: Vietnamese sort order, search, validation.

use std::collections::BTreeSet;

use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use lienhoan_domain::text::sort_key;
use uuid::Uuid;

use super::fixtures::*;
use crate::{OrganisationQuery, Store};

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
