//! Statistics read from the counters kept on every incident write: grouping by each dimension,
//! comparison with the year before, cluster membership windows, edits and deletes, bad ranges,
//! and a property test with random writes checked against a scan of an in-memory model.

use std::collections::BTreeMap;

use lienhoan_domain::access::{Actor, Role};
use lienhoan_domain::format::local_date;
use lienhoan_domain::incident::{CATEGORIES, IncidentInput, Outcome, Status, category_by_code};
use lienhoan_domain::organisation::Organisation;
use lienhoan_domain::stats::{Dimension, Figures, change, year_earlier};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::fixtures::*;
use crate::{IncidentQuery, Statistics, StatisticsQuery, Store, StoreError};

// ---------------------------------------------------------------------------------------------
// 12. Statistics

/// Figures by the keys of their row.
type Rows = BTreeMap<Vec<String>, Figures>;

fn keyed(rows: &[(&[&str], Figures)]) -> Rows {
    rows.iter()
        .map(|(keys, figures)| (keys.iter().map(|k| k.to_string()).collect(), *figures))
        .collect()
}

fn labels_by_key(stats: &Statistics) -> BTreeMap<Vec<String>, Vec<String>> {
    stats
        .rows
        .iter()
        .map(|r| (r.keys.clone(), r.labels.clone()))
        .collect()
}

/// A recorded incident with the figures that matter here.
fn counted(
    commune: &lienhoan_domain::geo::AdminUnit,
    occurred_at: OffsetDateTime,
    category: &str,
    outcome: Outcome,
    people: i64,
    [deaths, injured, suspects, victims]: [i64; 4],
    damage_vnd: i64,
) -> IncidentInput {
    IncidentInput {
        outcome,
        outcome_people: people,
        deaths,
        injured,
        suspects,
        victims,
        damage_vnd,
        status: Status::Solved,
        ..incident_input(commune, occurred_at, category)
    }
}

pub async fn statistics_group_by_each_dimension(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    join(store, &k, &b, date!(2018 - 01 - 24), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let officer_b = user(store, "can.bo.b", Some(&b), Role::Officer).await;
    for (actor, org, input) in [
        (
            &officer_a,
            &a,
            counted(
                &g.tu_thinh,
                datetime!(2019-03-10 10:00 +07:00),
                "criminal.theft",
                Outcome::Prosecuted,
                2,
                [0, 0, 2, 1],
                5_000_000,
            ),
        ),
        (
            &officer_a,
            &a,
            counted(
                &g.hop_thanh,
                datetime!(2019-03-20 10:00 +07:00),
                "criminal.drugs",
                Outcome::Prosecuted,
                3,
                [0, 0, 3, 0],
                0,
            ),
        ),
        (
            &officer_a,
            &a,
            counted(
                &g.tu_thinh,
                datetime!(2019-11-05 16:00 +07:00),
                "traffic.accident",
                Outcome::None,
                0,
                [1, 2, 0, 0],
                20_000_000,
            ),
        ),
        (
            &officer_b,
            &b,
            counted(
                &g.geo.lang_cong,
                datetime!(2019-03-15 09:00 +07:00),
                "criminal.theft",
                Outcome::Sanctioned,
                1,
                [0, 0, 1, 2],
                0,
            ),
        ),
        // 1 January 2020 in Vietnam: counted in 2020.
        (
            &officer_b,
            &b,
            counted(
                &g.quang_yen,
                datetime!(2019-12-31 18:30 UTC),
                "administrative.violation",
                Outcome::Sanctioned,
                4,
                [0, 0, 0, 0],
                0,
            ),
        ),
        (
            &officer_b,
            &b,
            counted(
                &g.geo.lang_cong,
                datetime!(2020-02-10 21:00 +07:00),
                "criminal.theft",
                Outcome::None,
                0,
                [0, 0, 0, 1],
                0,
            ),
        ),
    ] {
        record_incident(store, actor, org, &input).await;
    }

    let (from, to) = (date!(2019 - 01 - 01), date!(2020 - 12 - 31));
    let (ai, bi) = (a.id.to_string(), b.id.to_string());
    let (tq, vp) = (
        g.geo.tuyen_quang.id.to_string(),
        g.geo.vinh_phuc.id.to_string(),
    );
    let expectations: Vec<(Vec<Dimension>, Rows)> = vec![
        (
            vec![Dimension::Unit],
            keyed(&[
                (&[&ai], fig([3, 5, 0, 1, 2, 5, 1, 25_000_000])),
                (&[&bi], fig([3, 0, 5, 0, 0, 1, 3, 0])),
            ]),
        ),
        (
            vec![Dimension::Province],
            keyed(&[
                (&[&tq], fig([3, 5, 0, 1, 2, 5, 1, 25_000_000])),
                (&[&vp], fig([3, 0, 5, 0, 0, 1, 3, 0])),
            ]),
        ),
        (
            vec![Dimension::Category],
            keyed(&[
                (&["criminal.theft"], fig([3, 2, 1, 0, 0, 3, 4, 5_000_000])),
                (&["criminal.drugs"], fig([1, 3, 0, 0, 0, 3, 0, 0])),
                (
                    &["traffic.accident"],
                    fig([1, 0, 0, 1, 2, 0, 0, 20_000_000]),
                ),
                (&["administrative.violation"], fig([1, 0, 4, 0, 0, 0, 0, 0])),
            ]),
        ),
        (
            vec![Dimension::CategoryGroup],
            keyed(&[
                (&["criminal"], fig([4, 5, 1, 0, 0, 6, 4, 5_000_000])),
                (&["traffic"], fig([1, 0, 0, 1, 2, 0, 0, 20_000_000])),
                (&["administrative"], fig([1, 0, 4, 0, 0, 0, 0, 0])),
            ]),
        ),
        (
            vec![Dimension::Outcome],
            keyed(&[
                (&["prosecuted"], fig([2, 5, 0, 0, 0, 5, 1, 5_000_000])),
                (&["sanctioned"], fig([2, 0, 5, 0, 0, 1, 2, 0])),
                (&["none"], fig([2, 0, 0, 1, 2, 0, 1, 20_000_000])),
            ]),
        ),
        (
            vec![Dimension::Month],
            keyed(&[
                (&["2019-03"], fig([3, 5, 1, 0, 0, 6, 3, 5_000_000])),
                (&["2019-11"], fig([1, 0, 0, 1, 2, 0, 0, 20_000_000])),
                (&["2020-01"], fig([1, 0, 4, 0, 0, 0, 0, 0])),
                (&["2020-02"], fig([1, 0, 0, 0, 0, 0, 1, 0])),
            ]),
        ),
        (
            vec![Dimension::Year],
            keyed(&[
                (&["2019"], fig([4, 5, 1, 1, 2, 6, 3, 25_000_000])),
                (&["2020"], fig([2, 0, 4, 0, 0, 0, 1, 0])),
            ]),
        ),
        (
            vec![Dimension::Year, Dimension::Unit],
            keyed(&[
                (&["2019", &ai], fig([3, 5, 0, 1, 2, 5, 1, 25_000_000])),
                (&["2019", &bi], fig([1, 0, 1, 0, 0, 1, 2, 0])),
                (&["2020", &bi], fig([2, 0, 4, 0, 0, 0, 1, 0])),
            ]),
        ),
        (
            vec![
                Dimension::Outcome,
                Dimension::CategoryGroup,
                Dimension::Year,
            ],
            keyed(&[
                (&["none", "criminal", "2020"], fig([1, 0, 0, 0, 0, 0, 1, 0])),
                (
                    &["none", "traffic", "2019"],
                    fig([1, 0, 0, 1, 2, 0, 0, 20_000_000]),
                ),
                (
                    &["prosecuted", "criminal", "2019"],
                    fig([2, 5, 0, 0, 0, 5, 1, 5_000_000]),
                ),
                (
                    &["sanctioned", "administrative", "2020"],
                    fig([1, 0, 4, 0, 0, 0, 0, 0]),
                ),
                (
                    &["sanctioned", "criminal", "2019"],
                    fig([1, 0, 1, 0, 0, 1, 2, 0]),
                ),
            ]),
        ),
    ];
    let total = fig([6, 5, 5, 1, 2, 6, 4, 25_000_000]);
    for (dims, expected) in &expectations {
        let stats = statistics_of(store, &officer_a, &statistics_query(&k, from, to, dims)).await;
        assert_eq!(&figures_by_key(&stats), expected, "{dims:?}");
        assert_eq!(stats.total, total, "{dims:?}");
        assert_eq!(stats.group_by, *dims);
        assert_eq!((stats.from, stats.to), (from, to));
        assert!(stats.previous_total.is_none(), "{dims:?}");
        assert!(stats.rows.iter().all(|r| r.previous.is_none()), "{dims:?}");
    }
    // Units are labelled with their names, other keys as they are.
    let stats = statistics_of(
        store,
        &officer_b,
        &statistics_query(&k, from, to, &[Dimension::Year, Dimension::Unit]),
    )
    .await;
    let labels = labels_by_key(&stats);
    assert_eq!(
        labels[&vec!["2019".to_string(), ai.clone()]],
        ["2019", "Công an huyện Sơn Dương"]
    );
    assert_eq!(
        labels[&vec!["2020".to_string(), bi.clone()]],
        ["2020", "Công an huyện Sông Lô"]
    );
    // Rows come in Vietnamese order of their labels (Sông before Sơn), months and years in
    // time order.
    let ordered: Vec<Vec<String>> = stats.rows.iter().map(|r| r.labels.clone()).collect();
    assert_eq!(
        ordered,
        [
            ["2019", "Công an huyện Sông Lô"],
            ["2019", "Công an huyện Sơn Dương"],
            ["2020", "Công an huyện Sông Lô"],
        ]
    );
    let stats = statistics_of(
        store,
        &officer_b,
        &statistics_query(&k, from, to, &[Dimension::Month]),
    )
    .await;
    let months: Vec<&str> = stats.rows.iter().map(|r| r.keys[0].as_str()).collect();
    assert_eq!(months, ["2019-03", "2019-11", "2020-01", "2020-02"]);
    let stats = statistics_of(
        store,
        &officer_b,
        &statistics_query(&k, from, to, &[Dimension::Province]),
    )
    .await;
    let provinces: Vec<&str> = stats.rows.iter().map(|r| r.labels[0].as_str()).collect();
    assert_eq!(provinces, ["Tỉnh Tuyên Quang", "Tỉnh Vĩnh Phúc"]);

    // No grouping: the total only.
    let stats = statistics_of(store, &officer_a, &statistics_query(&k, from, to, &[])).await;
    assert_eq!(stats.total, total);
    let mut sum = Figures::default();
    for row in &stats.rows {
        assert!(row.keys.is_empty());
        sum.add(&row.figures);
    }
    assert_eq!(sum, total);
    // Ranges are Vietnamese calendar days, both ends included.
    for (from, to, expected) in [
        (
            date!(2019 - 03 - 15),
            date!(2019 - 03 - 15),
            fig([1, 0, 1, 0, 0, 1, 2, 0]),
        ),
        (
            date!(2020 - 01 - 01),
            date!(2020 - 01 - 01),
            fig([1, 0, 4, 0, 0, 0, 0, 0]),
        ),
        (
            date!(2019 - 12 - 31),
            date!(2019 - 12 - 31),
            Figures::default(),
        ),
        (
            date!(2019 - 03 - 10),
            date!(2019 - 03 - 20),
            fig([3, 5, 1, 0, 0, 6, 3, 5_000_000]),
        ),
        (
            date!(2019 - 03 - 11),
            date!(2019 - 03 - 19),
            fig([1, 0, 1, 0, 0, 1, 2, 0]),
        ),
        (
            date!(2021 - 01 - 01),
            date!(2030 - 01 - 01),
            Figures::default(),
        ),
    ] {
        let stats = statistics_of(
            store,
            &officer_a,
            &statistics_query(&k, from, to, &[Dimension::Unit]),
        )
        .await;
        assert_eq!(stats.total, expected, "{from} – {to}");
        if expected.is_zero() {
            assert!(stats.rows.is_empty(), "{from} – {to}: {:?}", stats.rows);
        }
    }
}

pub async fn statistics_compare_with_the_year_before(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2016 - 01 - 01)).await;
    join(store, &k, &a, date!(2016 - 01 - 01), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    // (occurred, category, outcome, people, deaths)
    #[rustfmt::skip]
    let incidents = [
        // Before the police year 15 December 2018 – 14 December 2019.
        (datetime!(2018-12-14 23:00 +07:00), "criminal.theft", Outcome::None, 0, 0),
        // In it, on its first and last days.
        (datetime!(2018-12-15 00:10 +07:00), "criminal.theft", Outcome::None, 0, 0),
        (datetime!(2019-12-14 23:50 +07:00), "criminal.drugs", Outcome::Prosecuted, 2, 0),
        // In the police year 15 December 2019 – 14 December 2020: first, middle, last day.
        (datetime!(2019-12-15 00:05 +07:00), "criminal.theft", Outcome::None, 0, 0),
        (datetime!(2020-06-01 12:00 +07:00), "traffic.accident", Outcome::None, 0, 2),
        (datetime!(2020-12-14 23:59 +07:00), "criminal.theft", Outcome::None, 0, 0),
        // After it.
        (datetime!(2020-12-15 00:00 +07:00), "criminal.theft", Outcome::None, 0, 0),
        // Around a leap day.
        (datetime!(2019-02-28 12:00 +07:00), "fire.explosion", Outcome::None, 0, 0),
        (datetime!(2019-03-01 12:00 +07:00), "fire.explosion", Outcome::None, 0, 0),
        (datetime!(2020-02-29 12:00 +07:00), "fire.explosion", Outcome::None, 0, 0),
    ];
    for (at, category, outcome, people, deaths) in incidents {
        let input = counted(
            &g.tu_thinh,
            at,
            category,
            outcome,
            people,
            [deaths, 0, 0, 0],
            0,
        );
        record_incident(store, &officer_a, &a, &input).await;
    }

    let query = StatisticsQuery {
        compare_previous_year: true,
        ..statistics_query(
            &k,
            date!(2019 - 12 - 15),
            date!(2020 - 12 - 14),
            &[Dimension::Category],
        )
    };
    let stats = statistics_of(store, &officer_a, &query).await;
    assert_eq!(stats.previous_from, Some(date!(2018 - 12 - 15)));
    assert_eq!(stats.previous_to, Some(date!(2019 - 12 - 14)));
    let rows: BTreeMap<Vec<String>, (Figures, Option<Figures>)> = stats
        .rows
        .iter()
        .map(|r| (r.keys.clone(), (r.figures, r.previous)))
        .collect();
    let key = |k: &str| vec![k.to_string()];
    let expected: BTreeMap<Vec<String>, (Figures, Option<Figures>)> = [
        (
            key("criminal.drugs"),
            (Figures::default(), Some(fig([1, 2, 0, 0, 0, 0, 0, 0]))),
        ),
        (
            key("criminal.theft"),
            (
                fig([2, 0, 0, 0, 0, 0, 0, 0]),
                Some(fig([1, 0, 0, 0, 0, 0, 0, 0])),
            ),
        ),
        (
            key("fire.explosion"),
            (
                fig([1, 0, 0, 0, 0, 0, 0, 0]),
                Some(fig([2, 0, 0, 0, 0, 0, 0, 0])),
            ),
        ),
        (
            key("traffic.accident"),
            (fig([1, 0, 0, 2, 0, 0, 0, 0]), Some(Figures::default())),
        ),
    ]
    .into();
    assert_eq!(
        rows, expected,
        "a key of either year gets a row, zero where absent"
    );
    assert_eq!(stats.total, fig([4, 0, 0, 2, 0, 0, 0, 0]));
    let previous = stats.previous_total.expect("the previous year's total");
    assert_eq!(previous, fig([4, 2, 0, 0, 0, 0, 0, 0]));
    assert_eq!(
        change(stats.total.incidents, previous.incidents),
        (0, Some(0.0))
    );

    // A range ending on 29 February compares with one ending on 28 February.
    let query = StatisticsQuery {
        compare_previous_year: true,
        ..statistics_query(
            &k,
            date!(2020 - 02 - 01),
            date!(2020 - 02 - 29),
            &[Dimension::Year],
        )
    };
    let stats = statistics_of(store, &officer_a, &query).await;
    assert_eq!(stats.previous_from, Some(date!(2019 - 02 - 01)));
    assert_eq!(stats.previous_to, Some(year_earlier(date!(2020 - 02 - 29))));
    assert_eq!(stats.previous_to, Some(date!(2019 - 02 - 28)));
    assert_eq!(stats.total.incidents, 1);
    assert_eq!(stats.previous_total.map(|p| p.incidents), Some(1));
    let rows: BTreeMap<Vec<String>, (i64, Option<i64>)> = stats
        .rows
        .iter()
        .map(|r| {
            (
                r.keys.clone(),
                (r.figures.incidents, r.previous.map(|p| p.incidents)),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [(key("2019"), (0, Some(1))), (key("2020"), (1, Some(0)))].into(),
        "grouped by year, each year's figures stay under its own key"
    );

    // Without comparison there is nothing of the year before.
    let stats = statistics_of(
        store,
        &officer_a,
        &statistics_query(&k, date!(2019 - 12 - 15), date!(2020 - 12 - 14), &[]),
    )
    .await;
    assert_eq!(stats.total.incidents, 4);
    assert!(stats.previous_total.is_none());
    assert!(stats.previous_from.is_none() && stats.previous_to.is_none());
    assert!(stats.rows.iter().all(|r| r.previous.is_none()));
}

pub async fn statistics_follow_membership_windows(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    // A is a member throughout, B left on 1 January 2020, C joined on 1 January 2021, X is in
    // another cluster only.
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.geo.song_lo).await;
    let c = organisation(store, "Công an huyện Na Hang", &g.geo.na_hang).await;
    let x = organisation(store, "Công an xã Lãng Công", &g.geo.lang_cong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    let l = cluster(store, "Cụm Lãng Công – Sơn Dương", date!(2019 - 01 - 01)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    let b_membership = join(
        store,
        &k,
        &b,
        date!(2018 - 01 - 24),
        Some(date!(2020 - 01 - 01)),
    )
    .await;
    join(store, &k, &c, date!(2021 - 01 - 01), None).await;
    join(store, &l, &a, date!(2019 - 01 - 01), None).await;
    join(store, &l, &x, date!(2019 - 01 - 01), None).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    let theft = |commune: &lienhoan_domain::geo::AdminUnit, at| {
        incident_input(commune, at, "criminal.theft")
    };
    for (org, input) in [
        (&a, theft(&g.tu_thinh, datetime!(2018-06-01 10:00 +07:00))),
        (&a, theft(&g.tu_thinh, datetime!(2019-05-05 10:00 +07:00))),
        (&b, theft(&g.quang_yen, datetime!(2019-06-01 10:00 +07:00))),
        (&b, theft(&g.quang_yen, datetime!(2019-12-31 23:30 +07:00))),
        // 1 January 2020 in Vietnam: B has left.
        (&b, theft(&g.quang_yen, datetime!(2019-12-31 17:30 UTC))),
        (&b, theft(&g.quang_yen, datetime!(2020-06-01 10:00 +07:00))),
        (
            &c,
            theft(&g.geo.son_phu, datetime!(2020-12-31 23:30 +07:00)),
        ),
        // 1 January 2021 in Vietnam: C has joined.
        (&c, theft(&g.geo.son_phu, datetime!(2020-12-31 17:15 UTC))),
        (
            &c,
            theft(&g.thuong_giap, datetime!(2021-05-05 10:00 +07:00)),
        ),
        (
            &x,
            theft(&g.geo.lang_cong, datetime!(2019-05-05 10:00 +07:00)),
        ),
    ] {
        record_incident(store, &admin, org, &input).await;
    }
    let units = |stats: &Statistics| -> BTreeMap<String, i64> {
        stats
            .rows
            .iter()
            .map(|r| (r.keys[0].clone(), r.figures.incidents))
            .collect()
    };
    let whole = |cluster| {
        statistics_query(
            cluster,
            date!(2015 - 01 - 01),
            date!(2025 - 12 - 31),
            &[Dimension::Unit],
        )
    };
    let id = |o: &Organisation| o.id.to_string();
    let stats = statistics_of(store, &admin, &whole(&k)).await;
    assert_eq!(
        units(&stats),
        [(id(&a), 2), (id(&b), 2), (id(&c), 2)].into(),
        "each member counts for its member days only"
    );
    assert_eq!(stats.total.incidents, 6);
    let stats = statistics_of(store, &admin, &whole(&l)).await;
    assert_eq!(
        units(&stats),
        [(id(&a), 1), (id(&x), 1)].into(),
        "a unit in two clusters counts in each for its days there"
    );
    let stats = statistics_of(
        store,
        &admin,
        &statistics_query(
            &k,
            date!(2019 - 12 - 31),
            date!(2020 - 01 - 01),
            &[Dimension::Unit],
        ),
    )
    .await;
    assert_eq!(units(&stats), [(id(&b), 1)].into());
    // The year before uses the memberships of the year before.
    let stats = statistics_of(
        store,
        &admin,
        &StatisticsQuery {
            compare_previous_year: true,
            ..statistics_query(
                &k,
                date!(2020 - 01 - 01),
                date!(2020 - 12 - 31),
                &[Dimension::Unit],
            )
        },
    )
    .await;
    assert_eq!(stats.total.incidents, 0);
    assert_eq!(stats.previous_total.map(|p| p.incidents), Some(3));
    // Correcting when B left changes the history it counts for.
    store
        .update_member(
            &Actor::system(),
            k.id,
            b_membership,
            &lienhoan_domain::cluster::MembershipInput {
                organisation_id: b.id,
                joined_on: date!(2018 - 01 - 24),
                left_on: Some(date!(2020 - 07 - 01)),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let stats = statistics_of(store, &admin, &whole(&k)).await;
    assert_eq!(
        units(&stats),
        [(id(&a), 2), (id(&b), 4), (id(&c), 2)].into()
    );

    // Who may ask: members past and present, admin and auditor; not an outsider.
    let officer_b = user(store, "can.bo.b", Some(&b), Role::Officer).await;
    let officer_c = user(store, "can.bo.c", Some(&c), Role::Officer).await;
    let officer_x = user(store, "can.bo.x", Some(&x), Role::Officer).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    for actor in [&officer_b, &officer_c, &auditor] {
        let stats = statistics_of(store, actor, &whole(&k)).await;
        assert_eq!(stats.total.incidents, 8, "{}", actor.username);
    }
    hidden_or_forbidden(store.statistics(&officer_x, &whole(&k)).await);
    assert_eq!(
        statistics_of(store, &officer_x, &whole(&l))
            .await
            .total
            .incidents,
        2
    );
}

pub async fn statistics_follow_edits_and_deletes(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let years = || async {
        let stats = statistics_of(
            store,
            &officer_a,
            &statistics_query(
                &k,
                date!(2018 - 01 - 01),
                date!(2022 - 12 - 31),
                &[Dimension::Year],
            ),
        )
        .await;
        let mut sum = Figures::default();
        for row in &stats.rows {
            sum.add(&row.figures);
        }
        assert_eq!(sum, stats.total, "the rows add up to the total");
        figures_by_key(&stats)
            .into_iter()
            .map(|(k, f)| (k[0].clone(), f))
            .collect::<BTreeMap<String, Figures>>()
    };
    let year = |y: &str, f: Figures| (y.to_string(), f);

    let first = IncidentInput {
        outcome: Outcome::Prosecuted,
        outcome_people: 2,
        suspects: 2,
        status: Status::Solved,
        ..incident_input(
            &g.tu_thinh,
            datetime!(2019-05-01 20:00 +07:00),
            "criminal.theft",
        )
    };
    let one = record_incident(store, &officer_a, &a, &first).await;
    let two = record_incident(store, &officer_a, &a, &first).await;
    assert_eq!(
        years().await,
        [year("2019", fig([2, 4, 0, 0, 0, 4, 0, 0]))].into()
    );

    // Another date, outcome, category and counts move the figures; the old row empties.
    let moved = IncidentInput {
        occurred_at: datetime!(2020-02-02 08:00 +07:00),
        reported_at: datetime!(2020-02-02 09:00 +07:00),
        outcome: Outcome::Sanctioned,
        outcome_people: 3,
        category: "criminal.drugs".into(),
        deaths: 1,
        ..first.clone()
    };
    store
        .update_incident(&officer_a, one.id, &moved)
        .await
        .unwrap();
    assert_eq!(
        years().await,
        [
            year("2019", fig([1, 2, 0, 0, 0, 2, 0, 0])),
            year("2020", fig([1, 0, 3, 1, 0, 2, 0, 0])),
        ]
        .into()
    );
    // Another commune of the same unit changes no figure.
    store
        .update_incident(
            &officer_a,
            one.id,
            &IncidentInput {
                commune_id: g.hop_thanh.id,
                ..moved.clone()
            },
        )
        .await
        .unwrap();
    let before = years().await;
    assert_eq!(before["2020"], fig([1, 0, 3, 1, 0, 2, 0, 0]));
    // A refused edit changes no figure.
    invalid_key(
        store
            .update_incident(
                &officer_a,
                one.id,
                &IncidentInput {
                    deaths: -1,
                    ..moved.clone()
                },
            )
            .await,
        "deaths",
        "error-negative",
    );
    invalid_key(
        store
            .update_incident(
                &officer_a,
                one.id,
                &IncidentInput {
                    commune_id: g.geo.lang_cong.id,
                    deaths: 7,
                    ..moved.clone()
                },
            )
            .await,
        "commune_id",
        "error-commune-outside-area",
    );
    assert_eq!(years().await, before);
    // The outcome dropped: nobody prosecuted or sanctioned.
    store
        .update_incident(
            &officer_a,
            two.id,
            &IncidentInput {
                outcome: Outcome::None,
                outcome_people: 0,
                ..first.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(before["2020"], years().await["2020"]);
    assert_eq!(years().await["2019"], fig([1, 0, 0, 0, 0, 2, 0, 0]));
    // Deleting takes an incident out of the counters.
    store
        .delete_incident(&commander_a, two.id, "Nhập trùng")
        .await
        .unwrap();
    assert_eq!(
        years().await,
        [year("2020", fig([1, 0, 3, 1, 0, 2, 0, 0]))].into()
    );
    store
        .delete_incident(&commander_a, one.id, "Nhập trùng")
        .await
        .unwrap();
    assert!(years().await.is_empty());
}

pub async fn statistics_reject_bad_ranges(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2018 - 01 - 24)).await;
    join(store, &k, &a, date!(2018 - 01 - 24), None).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    record_incident(
        store,
        &officer_a,
        &a,
        &incident_input(
            &g.tu_thinh,
            datetime!(2019-05-01 20:00 +07:00),
            "criminal.theft",
        ),
    )
    .await;
    let query = statistics_query(
        &k,
        date!(2019 - 05 - 02),
        date!(2019 - 05 - 01),
        &[Dimension::Unit],
    );
    invalid_key(
        store.statistics(&officer_a, &query).await,
        "to",
        "error-end-before-start",
    );
    invalid_key(
        store
            .statistics(
                &officer_a,
                &StatisticsQuery {
                    compare_previous_year: true,
                    ..query.clone()
                },
            )
            .await,
        "to",
        "error-end-before-start",
    );
    // One day is a range.
    let one_day = statistics_query(
        &k,
        date!(2019 - 05 - 01),
        date!(2019 - 05 - 01),
        &[Dimension::Unit],
    );
    assert_eq!(
        statistics_of(store, &officer_a, &one_day)
            .await
            .total
            .incidents,
        1
    );
    // A cluster that does not exist.
    not_found(
        store
            .statistics(
                &Actor::system(),
                &StatisticsQuery {
                    cluster_id: Some(Uuid::now_v7()),
                    ..one_day.clone()
                },
            )
            .await,
    );
    // A cluster without members counts nothing, over whole years and over days.
    let empty = cluster(store, "Cụm chưa có thành viên", date!(2019 - 01 - 01)).await;
    for (from, to) in [
        (date!(2019 - 01 - 01), date!(2019 - 12 - 31)),
        (date!(2019 - 04 - 15), date!(2019 - 05 - 20)),
    ] {
        let figures = statistics_of(
            store,
            &Actor::system(),
            &statistics_query(&empty, from, to, &[Dimension::Category]),
        )
        .await;
        assert!(figures.rows.is_empty(), "{from}..{to}: {:?}", figures.rows);
        assert_eq!(figures.total.incidents, 0);
    }
}

pub async fn national_statistics_are_for_those_who_see_everything(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.geo.son_duong).await;
    let x = organisation(store, "Công an xã Lãng Công", &g.geo.lang_cong).await;
    let k = cluster(store, "Cụm Sông Lô – Sơn Dương", date!(2020 - 01 - 01)).await;
    join(store, &k, &a, date!(2020 - 01 - 01), None).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    // Before A joined the cluster, and of an organisation in no cluster: counted nationally.
    for (org, input) in [
        (
            &a,
            counted(
                &g.tu_thinh,
                datetime!(2019-05-01 20:00 +07:00),
                "criminal.theft",
                Outcome::Prosecuted,
                2,
                [0, 0, 1, 1],
                0,
            ),
        ),
        (
            &a,
            counted(
                &g.hop_thanh,
                datetime!(2020-05-01 20:00 +07:00),
                "traffic.accident",
                Outcome::None,
                0,
                [1, 1, 0, 0],
                0,
            ),
        ),
        (
            &x,
            counted(
                &g.geo.lang_cong,
                datetime!(2019-12-31 17:30 UTC),
                "criminal.drugs",
                Outcome::Sanctioned,
                1,
                [0, 0, 1, 0],
                0,
            ),
        ),
    ] {
        record_incident(store, &admin, org, &input).await;
    }
    let national = |dims: &[Dimension]| StatisticsQuery {
        cluster_id: None,
        ..statistics_query(&k, date!(2019 - 01 - 01), date!(2020 - 12 - 31), dims)
    };
    let (tq, vp) = (
        g.geo.tuyen_quang.id.to_string(),
        g.geo.vinh_phuc.id.to_string(),
    );
    for actor in [&admin, &auditor] {
        let stats = statistics_of(store, actor, &national(&[Dimension::Province])).await;
        assert_eq!(stats.cluster_id, None);
        assert_eq!(
            stats.total,
            fig([3, 2, 1, 1, 1, 2, 1, 0]),
            "{}",
            actor.username
        );
        assert_eq!(
            figures_by_key(&stats),
            keyed(&[
                (&[&tq], fig([2, 2, 0, 1, 1, 1, 1, 0])),
                (&[&vp], fig([1, 0, 1, 0, 0, 1, 0, 0])),
            ]),
            "{}",
            actor.username
        );
        let stats = statistics_of(store, actor, &national(&[Dimension::Year])).await;
        assert_eq!(
            figures_by_key(&stats),
            keyed(&[
                (&["2019"], fig([1, 2, 0, 0, 0, 1, 1, 0])),
                (&["2020"], fig([2, 0, 1, 1, 1, 1, 0, 0])),
            ]),
            "the Vietnamese day decides the year"
        );
    }
    // The cluster counts A from the day it joined only.
    let stats = statistics_of(
        store,
        &admin,
        &statistics_query(&k, date!(2019 - 01 - 01), date!(2020 - 12 - 31), &[]),
    )
    .await;
    assert_eq!(stats.total.incidents, 1);
    // Everyone else is refused the whole country, even with a cluster of their own.
    for role in [Role::Coordinator, Role::Commander, Role::Officer] {
        let actor = user(store, &format!("{}.a", role.as_str()), Some(&a), role).await;
        forbidden(store.statistics(&actor, &national(&[])).await);
        statistics_of(
            store,
            &actor,
            &statistics_query(&k, date!(2019 - 01 - 01), date!(2020 - 12 - 31), &[]),
        )
        .await;
    }
    invalid_key(
        store
            .statistics(
                &admin,
                &StatisticsQuery {
                    from: date!(2021 - 01 - 01),
                    ..national(&[])
                },
            )
            .await,
        "to",
        "error-end-before-start",
    );
}

// ---------------------------------------------------------------------------------------------
// The property: after random inserts, edits and deletes, statistics equal a scan of the records.

/// SplitMix64: small, deterministic, good enough to shuffle test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SEEDS: [u64; 4] = [0x5EED_0001, 0x2018_0124, 0xC0FF_EE00, 0x1AC0_FFEE];
const OPERATIONS: usize = 80;
const RANDOM_QUERIES: usize = 8;
const FIRST_DAY: Date = date!(2017 - 10 - 01);
const LAST_DAY: Date = date!(2022 - 12 - 31);

struct Unit {
    org: Organisation,
    membership: Uuid,
    communes: Vec<Uuid>,
    joined_on: Date,
    left_on: Option<Date>,
    officer: Actor,
    commander: Actor,
}

impl Unit {
    fn member_on(&self, day: Date) -> bool {
        self.joined_on <= day && self.left_on.is_none_or(|left| day < left)
    }
}

/// A live incident as the model knows it.
struct Live {
    id: Uuid,
    unit: usize,
    input: IncidentInput,
}

fn random_day(rng: &mut Rng, unit: &Unit) -> Date {
    let roll = rng.below(100);
    if roll < 25 {
        // Where off-by-one mistakes live: the unit's own membership edges, both sides.
        let mut edges = vec![unit.joined_on, unit.joined_on - Duration::days(1)];
        if let Some(left) = unit.left_on {
            edges.extend([left, left - Duration::days(1)]);
        }
        *rng.pick(&edges)
    } else if roll < 40 {
        // Year ends and leap days.
        *rng.pick(&[
            date!(2019 - 12 - 31),
            date!(2020 - 01 - 01),
            date!(2020 - 02 - 29),
            date!(2019 - 02 - 28),
            date!(2021 - 02 - 28),
            date!(2017 - 12 - 31),
            date!(2018 - 01 - 01),
        ])
    } else {
        let span = (LAST_DAY - FIRST_DAY).whole_days() as u64 + 1;
        FIRST_DAY + Duration::days(rng.below(span) as i64)
    }
}

fn random_instant(rng: &mut Rng, unit: &Unit) -> OffsetDateTime {
    let day = random_day(rng, unit);
    // Around midnight in Vietnam the UTC day differs.
    let hour = if rng.chance(40) {
        *rng.pick(&[0u8, 1, 6, 7, 23])
    } else {
        rng.below(24) as u8
    };
    vn_time(day, hour, rng.below(60) as u8)
}

fn set_time(rng: &mut Rng, unit: &Unit, input: &mut IncidentInput) {
    input.occurred_at = random_instant(rng, unit);
    input.reported_at = input.occurred_at + Duration::minutes(rng.below(3 * 24 * 60) as i64);
}

fn set_outcome(rng: &mut Rng, input: &mut IncidentInput) {
    input.outcome = *rng.pick(&Outcome::ALL);
    input.outcome_people = match input.outcome {
        Outcome::None => 0,
        _ => rng.below(6) as i64,
    };
}

fn set_counts(rng: &mut Rng, input: &mut IncidentInput) {
    input.suspects = rng.below(4) as i64;
    input.victims = rng.below(4) as i64;
    input.deaths = rng.below(3) as i64;
    input.injured = rng.below(4) as i64;
    input.damage_vnd = rng.below(6) as i64 * 1_250_000;
}

fn random_input(rng: &mut Rng, units: &[Unit], unit: usize, label: &str) -> IncidentInput {
    let commune = *rng.pick(&units[unit].communes);
    let mut input = IncidentInput {
        commune_id: commune,
        place: String::new(),
        latitude: None,
        longitude: None,
        occurred_at: OffsetDateTime::UNIX_EPOCH,
        reported_at: OffsetDateTime::UNIX_EPOCH,
        category: rng.pick(CATEGORIES).code.to_string(),
        suspects: 0,
        victims: 0,
        deaths: 0,
        injured: 0,
        damage_vnd: 0,
        narrative: format!("Vụ việc thử {label}"),
        status: *rng.pick(&Status::ALL),
        outcome: Outcome::None,
        outcome_people: 0,
        cross_border: rng.chance(25),
        shared: None,
    };
    set_time(rng, &units[unit], &mut input);
    set_outcome(rng, &mut input);
    set_counts(rng, &mut input);
    input
}

fn random_edit(rng: &mut Rng, units: &[Unit], live: &Live) -> IncidentInput {
    let mut input = live.input.clone();
    let mut changed = false;
    while !changed {
        if rng.chance(40) {
            set_time(rng, &units[live.unit], &mut input);
            changed = true;
        }
        if rng.chance(40) {
            input.category = rng.pick(CATEGORIES).code.to_string();
            changed = true;
        }
        if rng.chance(40) {
            set_outcome(rng, &mut input);
            changed = true;
        }
        if rng.chance(40) {
            set_counts(rng, &mut input);
            changed = true;
        }
        if rng.chance(30) {
            input.commune_id = *rng.pick(&units[live.unit].communes);
            changed = true;
        }
    }
    let allowed: Vec<Status> = Status::ALL
        .into_iter()
        .filter(|s| live.input.status.can_move_to(*s))
        .collect();
    input.status = *rng.pick(&allowed);
    input
}

/// What one incident adds, by the rules of the issue: one incident, the people of its
/// outcome, its counts.
fn contribution_of(input: &IncidentInput) -> Figures {
    let people = |outcome| {
        if input.outcome == outcome {
            input.outcome_people
        } else {
            0
        }
    };
    fig([
        1,
        people(Outcome::Prosecuted),
        people(Outcome::Sanctioned),
        input.deaths,
        input.injured,
        input.suspects,
        input.victims,
        input.damage_vnd,
    ])
}

fn key_value(
    dim: Dimension,
    org: Uuid,
    province: Uuid,
    input: &IncidentInput,
    day: Date,
) -> String {
    match dim {
        Dimension::Unit => org.to_string(),
        Dimension::Province => province.to_string(),
        Dimension::Category => input.category.clone(),
        Dimension::CategoryGroup => category_by_code(&input.category)
            .expect("the model holds known categories")
            .group
            .to_string(),
        Dimension::Outcome => input.outcome.as_str().to_string(),
        Dimension::Month => format!("{:04}-{:02}", day.year(), day.month() as u8),
        Dimension::Year => format!("{:04}", day.year()),
    }
}

/// The scan: every incident (by its organisation) in range on a Vietnamese day it `counts`.
fn scan<'a>(
    incidents: impl Iterator<Item = (Uuid, &'a IncidentInput)>,
    counts: &dyn Fn(Uuid, Date) -> bool,
    province_of: &BTreeMap<Uuid, Uuid>,
    (from, to): (Date, Date),
    dims: &[Dimension],
) -> Rows {
    let mut groups = Rows::new();
    for (org, input) in incidents {
        let day = local_date(input.occurred_at);
        if day < from || day > to || !counts(org, day) {
            continue;
        }
        let province = province_of[&input.commune_id];
        let key = dims
            .iter()
            .map(|d| key_value(*d, org, province, input, day))
            .collect();
        groups.entry(key).or_default().add(&contribution_of(input));
    }
    groups
}

/// Checks an answer against the scans of its range and of the year before.
fn matches_scan(context: &str, stats: &Statistics, current: &Rows, previous: Option<&Rows>) {
    let mut expected: BTreeMap<Vec<String>, (Figures, Option<Figures>)> = BTreeMap::new();
    for key in current.keys().chain(previous.iter().flat_map(|p| p.keys())) {
        expected.insert(
            key.clone(),
            (
                current.get(key).copied().unwrap_or_default(),
                previous.map(|p| p.get(key).copied().unwrap_or_default()),
            ),
        );
    }
    let mut got = BTreeMap::new();
    for row in &stats.rows {
        assert_eq!(row.keys.len(), stats.group_by.len(), "{context}");
        assert_eq!(row.labels.len(), stats.group_by.len(), "{context}");
        let earlier = got.insert(row.keys.clone(), (row.figures, row.previous));
        assert!(earlier.is_none(), "{context}: key {:?} twice", row.keys);
    }
    assert_eq!(got, expected, "{context}");
    assert_eq!(stats.total, sum(current), "{context}");
    assert_eq!(stats.previous_total, previous.map(sum), "{context}");
    if previous.is_some() {
        assert_eq!(
            stats.previous_from,
            Some(year_earlier(stats.from)),
            "{context}"
        );
        assert_eq!(stats.previous_to, Some(year_earlier(stats.to)), "{context}");
    }
}

fn sum(groups: &BTreeMap<Vec<String>, Figures>) -> Figures {
    let mut total = Figures::default();
    for figures in groups.values() {
        total.add(figures);
    }
    total
}

#[track_caller]
fn refused_as_invalid<T: std::fmt::Debug>(
    context: &str,
    result: crate::StoreResult<T>,
    field: &str,
) {
    match result {
        Err(StoreError::Invalid(errors)) => assert!(
            errors.iter().any(|e| e.field == field),
            "{context}: expected an error on {field}, got {errors:?}"
        ),
        other => panic!("{context}: expected Invalid on {field}, got {other:?}"),
    }
}

pub async fn statistics_match_a_scan_of_random_writes(store: &dyn Store) {
    let g = import_incident_geo(store).await;
    let province_of: BTreeMap<Uuid, Uuid> = [
        (g.tu_thinh.id, g.geo.tuyen_quang.id),
        (g.hop_thanh.id, g.geo.tuyen_quang.id),
        (g.geo.son_phu.id, g.geo.tuyen_quang.id),
        (g.thuong_giap.id, g.geo.tuyen_quang.id),
        (g.geo.lang_cong.id, g.geo.vinh_phuc.id),
        (g.quang_yen.id, g.geo.vinh_phuc.id),
    ]
    .into();
    // The live incidents of the seeds done, by organisation: the whole country's figures.
    let mut earlier: Vec<(Uuid, IncidentInput)> = Vec::new();
    for seed in SEEDS {
        let mut rng = Rng(seed);
        let k = cluster(store, &format!("Cụm thử {seed:x}"), date!(2018 - 01 - 01)).await;
        // One member throughout, one that leaves early, one that joins late, and a commune
        // unit that joins late and leaves early.
        let spec = [
            (
                "Công an huyện Sơn Dương",
                &g.geo.son_duong,
                vec![g.tu_thinh.id, g.hop_thanh.id],
                date!(2018 - 01 - 01),
                None,
            ),
            (
                "Công an huyện Sông Lô",
                &g.geo.song_lo,
                vec![g.geo.lang_cong.id, g.quang_yen.id],
                date!(2018 - 01 - 01),
                Some(date!(2020 - 07 - 01)),
            ),
            (
                "Công an huyện Na Hang",
                &g.geo.na_hang,
                vec![g.geo.son_phu.id, g.thuong_giap.id],
                date!(2020 - 03 - 15),
                None,
            ),
            (
                "Công an xã Lãng Công",
                &g.geo.lang_cong,
                vec![g.geo.lang_cong.id],
                date!(2019 - 06 - 01),
                Some(date!(2021 - 09 - 01)),
            ),
        ];
        let mut units = Vec::new();
        for (index, (name, unit, communes, joined_on, left_on)) in spec.into_iter().enumerate() {
            let org = organisation(store, &format!("{name} ({seed:x})"), unit).await;
            let membership = join(store, &k, &org, joined_on, left_on).await;
            units.push(Unit {
                officer: user(
                    store,
                    &format!("can.bo.{seed:x}.{index}"),
                    Some(&org),
                    Role::Officer,
                )
                .await,
                commander: user(
                    store,
                    &format!("chi.huy.{seed:x}.{index}"),
                    Some(&org),
                    Role::Commander,
                )
                .await,
                org,
                membership,
                communes,
                joined_on,
                left_on,
            });
        }

        let mut live: Vec<Live> = Vec::new();
        for op in 0..OPERATIONS {
            let context = format!("seed {seed:x}, operation {op}");
            if op == OPERATIONS / 2 {
                // Compacting the rollups halfway changes no figure that the model checks at
                // the end, and the writes after it land in the compacted tables.
                let refused = store.compact_statistics(&units[0].officer).await;
                assert!(
                    matches!(refused, Err(StoreError::Forbidden)),
                    "{context}: an officer compacts: {refused:?}"
                );
                store
                    .compact_statistics(&Actor::system())
                    .await
                    .unwrap_or_else(|e| panic!("{context}: compact: {e:?}"));
            }
            if op % 20 == 10 {
                // A member's dates move after its incidents are recorded: corrected, or the
                // member removed and admitted again.
                let unit = &mut units[rng.below(4) as usize];
                let joined_on = date!(2018 - 01 - 01) + Duration::days(rng.below(1500) as i64);
                let left_on = rng
                    .chance(50)
                    .then(|| joined_on + Duration::days(1 + rng.below(1500) as i64));
                if rng.chance(50) {
                    store
                        .update_member(
                            &Actor::system(),
                            k.id,
                            unit.membership,
                            &membership(&unit.org, joined_on, left_on),
                        )
                        .await
                        .unwrap_or_else(|e| panic!("{context}: move a member: {e:?}"));
                } else {
                    store
                        .remove_member(&Actor::system(), k.id, unit.membership)
                        .await
                        .unwrap_or_else(|e| panic!("{context}: remove a member: {e:?}"));
                    unit.membership = join(store, &k, &unit.org, joined_on, left_on).await;
                }
                (unit.joined_on, unit.left_on) = (joined_on, left_on);
            }
            let roll = rng.below(100);
            if live.is_empty() || roll < 45 {
                let unit = rng.below(units.len() as u64) as usize;
                let input = random_input(&mut rng, &units, unit, &context);
                let incident = store
                    .create_incident(&units[unit].officer, units[unit].org.id, &input)
                    .await
                    .unwrap_or_else(|e| panic!("{context}: create {input:?}: {e:?}"));
                live.push(Live {
                    id: incident.id,
                    unit,
                    input,
                });
            } else if roll < 75 {
                let index = rng.below(live.len() as u64) as usize;
                let input = random_edit(&mut rng, &units, &live[index]);
                let unit = &units[live[index].unit];
                store
                    .update_incident(&unit.officer, live[index].id, &input)
                    .await
                    .unwrap_or_else(|e| panic!("{context}: edit {input:?}: {e:?}"));
                live[index].input = input;
            } else if roll < 90 {
                let index = rng.below(live.len() as u64) as usize;
                let unit = &units[live[index].unit];
                store
                    .delete_incident(&unit.commander, live[index].id, "Nhập nhầm")
                    .await
                    .unwrap_or_else(|e| panic!("{context}: delete: {e:?}"));
                live.remove(index);
            } else {
                // Refused writes must leave records and counters as they were.
                let index = rng.below(live.len() as u64) as usize;
                let target = &live[index];
                let unit = &units[target.unit];
                match rng.below(4) {
                    0 => {
                        let outside = units
                            .iter()
                            .flat_map(|u| u.communes.iter())
                            .find(|c| !unit.communes.contains(c))
                            .expect("another unit's commune");
                        let input = IncidentInput {
                            commune_id: *outside,
                            ..target.input.clone()
                        };
                        refused_as_invalid(
                            &context,
                            store
                                .create_incident(&unit.officer, unit.org.id, &input)
                                .await,
                            "commune_id",
                        );
                        refused_as_invalid(
                            &context,
                            store
                                .update_incident(&unit.officer, target.id, &input)
                                .await,
                            "commune_id",
                        );
                    }
                    1 => {
                        let mut input = random_edit(&mut rng, &units, target);
                        input.injured = -1;
                        refused_as_invalid(
                            &context,
                            store
                                .update_incident(&unit.officer, target.id, &input)
                                .await,
                            "injured",
                        );
                    }
                    2 => {
                        let mut input = random_edit(&mut rng, &units, target);
                        if target.input.status.can_move_to(Status::Verifying) {
                            input.category = "criminal.piracy".into();
                            refused_as_invalid(
                                &context,
                                store
                                    .update_incident(&unit.officer, target.id, &input)
                                    .await,
                                "category",
                            );
                        } else {
                            input.status = Status::Verifying;
                            refused_as_invalid(
                                &context,
                                store
                                    .update_incident(&unit.officer, target.id, &input)
                                    .await,
                                "status",
                            );
                        }
                    }
                    _ => {
                        refused_as_invalid(
                            &context,
                            store.delete_incident(&unit.commander, target.id, " ").await,
                            "reason",
                        );
                        let result = store
                            .delete_incident(&unit.officer, target.id, "Nhập nhầm")
                            .await;
                        assert!(
                            matches!(result, Err(StoreError::Forbidden)),
                            "{context}: an officer deletes: {result:?}"
                        );
                    }
                }
            }
        }

        // The records are the model.
        for (index, unit) in units.iter().enumerate() {
            let stored: BTreeMap<Uuid, IncidentInput> = all_incidents(
                store,
                IncidentQuery {
                    organisation_id: Some(unit.org.id),
                    ..IncidentQuery::default()
                },
            )
            .await
            .into_iter()
            .map(|v| (v.incident.id, v.incident.input))
            .collect();
            let model: BTreeMap<Uuid, IncidentInput> = live
                .iter()
                .filter(|l| l.unit == index)
                .map(|l| (l.id, l.input.clone()))
                .collect();
            assert_eq!(
                stored, model,
                "seed {seed:x}: the records of {}",
                unit.org.name
            );
        }

        // Statistics equal the scan, for fixed and random ranges and groupings.
        let mut queries = vec![
            (
                date!(2017 - 01 - 01),
                date!(2023 - 12 - 31),
                vec![Dimension::Unit, Dimension::Year],
                true,
            ),
            (
                date!(2020 - 01 - 01),
                date!(2020 - 12 - 31),
                vec![Dimension::Month],
                false,
            ),
            (
                date!(2020 - 06 - 30),
                date!(2020 - 07 - 01),
                vec![Dimension::Unit, Dimension::Outcome],
                true,
            ),
            (date!(2021 - 02 - 28), date!(2021 - 02 - 28), vec![], true),
            // Whole years, with months and days around them: national reports read years.
            (
                date!(2016 - 07 - 03),
                date!(2022 - 02 - 14),
                vec![Dimension::Province, Dimension::Year, Dimension::Category],
                true,
            ),
            (
                date!(2018 - 01 - 01),
                date!(2022 - 12 - 31),
                vec![Dimension::CategoryGroup, Dimension::Outcome],
                false,
            ),
            // Police periods, the 15th to the 14th: national reports read reporting months.
            (
                date!(2019 - 12 - 15),
                date!(2020 - 06 - 14),
                vec![Dimension::Province, Dimension::Category],
                true,
            ),
            (
                date!(2019 - 12 - 14),
                date!(2020 - 12 - 15),
                vec![Dimension::CategoryGroup],
                true,
            ),
        ];
        for _ in 0..RANDOM_QUERIES {
            let from = FIRST_DAY - Duration::days(90)
                + Duration::days(rng.below((LAST_DAY - FIRST_DAY).whole_days() as u64 + 180) as i64);
            let to = from + Duration::days(rng.below(1000) as i64);
            let mut dims = Dimension::ALL.to_vec();
            for i in (1..dims.len()).rev() {
                dims.swap(i, rng.below(i as u64 + 1) as usize);
            }
            dims.truncate(rng.below(4) as usize);
            queries.push((from, to, dims, rng.chance(50)));
        }
        for (from, to, dims, compare) in queries {
            let context = format!("seed {seed:x}: {from} – {to} by {dims:?}, compare {compare}");
            let query = StatisticsQuery {
                compare_previous_year: compare,
                ..statistics_query(&k, from, to, &dims)
            };
            let stats = statistics_of(store, &units[0].officer, &query).await;
            let in_cluster = || live.iter().map(|l| (units[l.unit].org.id, &l.input));
            let member_on =
                |org: Uuid, day: Date| units.iter().any(|u| u.org.id == org && u.member_on(day));
            let current = scan(in_cluster(), &member_on, &province_of, (from, to), &dims);
            let previous = compare.then(|| {
                let range = (year_earlier(from), year_earlier(to));
                scan(in_cluster(), &member_on, &province_of, range, &dims)
            });
            matches_scan(&context, &stats, &current, previous.as_ref());

            // The whole country: every incident, whoever was a member.
            let national = statistics_of(
                store,
                &Actor::system(),
                &StatisticsQuery {
                    cluster_id: None,
                    ..query.clone()
                },
            )
            .await;
            let everywhere = || {
                earlier
                    .iter()
                    .map(|(org, input)| (*org, input))
                    .chain(in_cluster())
            };
            let always = |_: Uuid, _: Date| true;
            let current = scan(everywhere(), &always, &province_of, (from, to), &dims);
            let previous = compare.then(|| {
                let range = (year_earlier(from), year_earlier(to));
                scan(everywhere(), &always, &province_of, range, &dims)
            });
            matches_scan(
                &format!("{context}, whole country"),
                &national,
                &current,
                previous.as_ref(),
            );

            // The cluster's list over the same range counts the same incidents.
            let listed = store
                .list_incidents(
                    &Actor::system(),
                    &IncidentQuery {
                        cluster_id: Some(k.id),
                        from: Some(from),
                        to: Some(to),
                        limit: 1,
                        ..IncidentQuery::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(listed.total, stats.total.incidents, "{context}: the list");
        }
        earlier.extend(live.into_iter().map(|l| (units[l.unit].org.id, l.input)));
    }
}
