//! Record-level demo incidents, generated deterministically so that each cluster's statistics
//! reproduce the figures its article publishes.

use std::collections::HashMap;

use anyhow::Context;
use lienhoan_domain::access::Actor;
use lienhoan_domain::format::{VIETNAM_OFFSET, parse_date};
use lienhoan_domain::geo::AdminLevel;
use lienhoan_domain::incident::{IncidentInput, Outcome, Status};
use lienhoan_store::{AdminUnitQuery, Store};
use time::{Duration, Time};
use uuid::Uuid;

/// Incidents of one kind: how many, and the totals to spread over them.
pub struct Part {
    pub count: usize,
    pub categories: &'static [&'static str],
    pub outcome: Outcome,
    /// People prosecuted or sanctioned, in all.
    pub people: i64,
    pub deaths: i64,
    pub injured: i64,
}

/// Incidents owned by `owners`, occurring between `from` and `to` (inclusive).
pub struct Batch {
    pub owners: &'static [&'static str],
    pub from: &'static str,
    pub to: &'static str,
    pub parts: &'static [Part],
}

const CRIMINAL: &[&str] = &[
    "criminal.theft",
    "criminal.drugs",
    "criminal.gambling",
    "criminal.assault",
    "criminal.fraud",
    "criminal.loan_sharking",
    "criminal.robbery",
];
const MINOR: &[&str] = &[
    "administrative.violation",
    "administrative.violation",
    "social_vice.vice",
    "dispute.complaint",
];
const TRAFFIC: &[&str] = &["traffic.accident"];

const fn part(
    count: usize,
    categories: &'static [&'static str],
    outcome: Outcome,
    people: i64,
) -> Part {
    Part {
        count,
        categories,
        outcome,
        people,
        deaths: 0,
        injured: 0,
    }
}

/// Sông Lô – Sơn Dương, 03/07/2015 – 02/07/2020 (review of 03/07/2020): 172 incidents, 99
/// prosecuted with 153 people, 73 handled without prosecution with 116 people; 49 traffic
/// accidents with 3 dead and 73 injured.
pub const SONG_LO: &[Batch] = &[Batch {
    owners: &[
        "Công an xã Lãng Công",
        "Công an xã Quang Yên",
        "Công an xã Hải Lựu",
        "Công an xã Phú Lương",
        "Công an xã Hào Phú",
        "Công an xã Tam Đa",
    ],
    from: "2015-07-03",
    to: "2020-07-02",
    parts: &[
        part(99, CRIMINAL, Outcome::Prosecuted, 153),
        part(73, MINOR, Outcome::Sanctioned, 116),
        Part {
            count: 49,
            categories: TRAFFIC,
            outcome: Outcome::None,
            people: 0,
            deaths: 3,
            injured: 73,
        },
    ],
}];

const LE_THUY_OWNERS: &[&str] = &[
    "Công an xã Sen Thủy",
    "Công an xã Ngư Thủy",
    "Công an xã Kim Thủy",
    "Công an xã Vĩnh Thái",
    "Công an xã Vĩnh Chấp",
    "Công an xã Vĩnh Sơn",
];

/// Lệ Thủy – Vĩnh Linh: 2017 has 13 incidents fewer than 2016 (58 → 45).
pub const LE_THUY: &[Batch] = &[
    Batch {
        owners: LE_THUY_OWNERS,
        from: "2016-01-01",
        to: "2016-12-31",
        parts: &[
            part(20, CRIMINAL, Outcome::Prosecuted, 28),
            part(25, MINOR, Outcome::Sanctioned, 31),
            part(13, TRAFFIC, Outcome::None, 0),
        ],
    },
    Batch {
        owners: LE_THUY_OWNERS,
        from: "2017-01-01",
        to: "2017-12-31",
        parts: &[
            part(15, CRIMINAL, Outcome::Prosecuted, 20),
            part(20, MINOR, Outcome::Sanctioned, 26),
            part(10, TRAFFIC, Outcome::None, 0),
        ],
    },
];

/// Việt Trì – Vĩnh Tường – Lập Thạch, 2018: 15 criminal cases with 19 people, 46
/// administrative violations with 63 people.
pub const VIET_TRI: &[Batch] = &[Batch {
    owners: &[
        "UBND xã Cao Đại",
        "UBND xã Việt Xuân",
        "UBND xã Bồ Sao",
        "UBND xã Sơn Đông",
        "UBND phường Bạch Hạc",
        "UBND phường Thanh Miếu",
        "UBND phường Bến Gót",
    ],
    from: "2018-01-24",
    to: "2018-12-31",
    parts: &[
        part(15, CRIMINAL, Outcome::Prosecuted, 19),
        part(46, &["administrative.violation"], Outcome::Sanctioned, 63),
    ],
}];

/// The eight districts around Nà Hang, second half of 2016: 97 violations.
pub const NA_HANG: &[Batch] = &[Batch {
    owners: &[
        "Công an huyện Nà Hang",
        "Công an huyện Lâm Bình",
        "Công an huyện Chiêm Hóa",
        "Công an huyện Bắc Mê",
        "Công an huyện Bảo Lâm",
        "Công an huyện Pác Nặm",
        "Công an huyện Ba Bể",
        "Công an huyện Chợ Đồn",
    ],
    from: "2016-07-01",
    to: "2016-12-31",
    parts: &[
        part(40, CRIMINAL, Outcome::Prosecuted, 55),
        part(45, MINOR, Outcome::Sanctioned, 60),
        part(12, &["illegal_exit.crossing"], Outcome::None, 0),
    ],
}];

/// splitmix64: small, deterministic, good enough to spread demo records.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Spreads `total` over `count` slots; with `at_least_one`, every slot gets one first.
fn spread(random: &mut Random, count: usize, total: i64, at_least_one: bool) -> Vec<i64> {
    let base = i64::from(at_least_one);
    let mut slots = vec![base; count];
    let mut left = total - base * count as i64;
    while left > 0 {
        slots[random.below(count)] += 1;
        left -= 1;
    }
    slots
}

/// A commune where an owner's incidents happen: its own unit, or the first commune under it.
async fn commune_of(store: &dyn Store, organisation: Uuid) -> anyhow::Result<Uuid> {
    let org = store.organisation(organisation).await?;
    let unit = store.admin_unit(org.organisation.admin_unit_id).await?;
    if unit.unit.level == AdminLevel::Commune {
        return Ok(unit.unit.id);
    }
    let query = AdminUnitQuery {
        parent_id: Some(unit.unit.id),
        level: Some(AdminLevel::Commune),
        limit: 1,
        ..Default::default()
    };
    let communes = store.search_admin_units(&query).await?;
    Ok(communes
        .items
        .first()
        .context("a district with no commune")?
        .unit
        .id)
}

pub async fn generate(
    store: &dyn Store,
    system: &Actor,
    batches: &[Batch],
    orgs: &HashMap<&'static str, Uuid>,
    seed: u64,
) -> anyhow::Result<usize> {
    let mut random = Random(seed);
    let mut communes = HashMap::new();
    let mut created = 0;
    for batch in batches {
        let from = parse_date(batch.from).context("batch start")?;
        let to = parse_date(batch.to).context("batch end")?;
        let days = (to - from).whole_days() as usize + 1;
        for part in batch.parts {
            let people = spread(&mut random, part.count, part.people, part.people > 0);
            let deaths = spread(&mut random, part.count, part.deaths, false);
            let injured = spread(&mut random, part.count, part.injured, false);
            for i in 0..part.count {
                let owner = orgs[batch.owners[random.below(batch.owners.len())]];
                let commune = match communes.get(&owner) {
                    Some(c) => *c,
                    None => {
                        let c = commune_of(store, owner).await?;
                        communes.insert(owner, c);
                        c
                    }
                };
                let day = from + Duration::days(random.below(days) as i64);
                let time = Time::from_hms(random.below(24) as u8, random.below(60) as u8, 0)
                    .expect("a valid time");
                let occurred_at = day.with_time(time).assume_offset(VIETNAM_OFFSET);
                let input = IncidentInput {
                    commune_id: commune,
                    place: String::new(),
                    latitude: None,
                    longitude: None,
                    occurred_at,
                    reported_at: occurred_at + Duration::hours(1 + random.below(12) as i64),
                    category: part.categories[random.below(part.categories.len())].into(),
                    suspects: people[i].max(i64::from(part.outcome != Outcome::None)),
                    victims: i64::from(random.below(3) == 0),
                    deaths: deaths[i],
                    injured: injured[i],
                    damage_vnd: (random.below(50) as i64) * 500_000,
                    narrative: String::new(),
                    status: if part.outcome == Outcome::None {
                        Status::Closed
                    } else {
                        Status::Solved
                    },
                    outcome: part.outcome,
                    outcome_people: people[i],
                    cross_border: random.below(5) == 0,
                    shared: None,
                };
                store.create_incident(system, owner, &input).await?;
                created += 1;
            }
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreading_keeps_totals() {
        let mut random = Random(7);
        for (count, total, at_least_one) in [
            (99, 153, true),
            (73, 116, true),
            (49, 3, false),
            (49, 73, false),
        ] {
            let slots = spread(&mut random, count, total, at_least_one);
            assert_eq!(slots.len(), count);
            assert_eq!(slots.iter().sum::<i64>(), total);
            assert!(slots.iter().all(|s| *s >= i64::from(at_least_one)));
        }
    }

    #[test]
    fn article_figures_add_up() {
        let parts = &SONG_LO[0].parts;
        let incidents: usize = parts
            .iter()
            .filter(|p| p.outcome != Outcome::None)
            .map(|p| p.count)
            .sum();
        assert_eq!(incidents, 172);
        let year = |b: &Batch| b.parts.iter().map(|p| p.count).sum::<usize>();
        assert_eq!(year(&LE_THUY[0]) - year(&LE_THUY[1]), 13);
    }
}
