//! Administrative units: import, search, aliases, successions, historical units.

use std::collections::BTreeSet;

use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::geo::{AdminLevel, AdminUnit, NewHistoricalUnit, SuccessionRecord};
use time::macros::date;
use uuid::Uuid;

use super::fixtures::*;
use crate::{AdminUnitQuery, Store};

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
