//! The deterministic national dataset: the real 2025 map (34 provinces, 3,321 communes), one
//! police organisation per commune, clusters of neighbouring communes across province borders,
//! and incidents over ten years. Everything follows from the seed; only the UUIDs the store
//! assigns differ between runs.

use lienhoan_domain::geo::{UnitRecord, parse_units};
use lienhoan_domain::incident::{IncidentInput, Outcome, Status};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const UNITS: &str = include_str!("../../assets/geo/units.tsv");
pub const DATASET: &str = "2025";

/// SplitMix64: small, fast and the same on every platform and crate version.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

pub struct Province {
    pub code: String,
    pub name: String,
}

#[derive(Clone)]
pub struct Commune {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub province: usize,
}

pub struct MemberPlan {
    pub commune: usize,
    pub joined_on: Date,
    pub left_on: Option<Date>,
}

pub struct ClusterPlan {
    pub name: String,
    pub founded_on: Date,
    pub members: Vec<MemberPlan>,
}

pub struct Plan {
    pub seed: u64,
    pub units: Vec<UnitRecord>,
    pub provinces: Vec<Province>,
    pub communes: Vec<Commune>,
    pub clusters: Vec<ClusterPlan>,
    /// Incidents per commune (its police organisation), summing to N.
    pub counts: Vec<u64>,
}

/// Land borders between the 2025 provinces (by code), written once here; clusters straddle
/// one of them. Coarse, but every pair really shares a border.
const BORDERS: &[(&str, &str)] = &[
    ("01", "19"),
    ("01", "25"),
    ("01", "24"),
    ("01", "33"),
    ("01", "37"),
    ("04", "20"),
    ("04", "08"),
    ("04", "19"),
    ("08", "15"),
    ("08", "19"),
    ("08", "25"),
    ("11", "12"),
    ("11", "14"),
    ("12", "14"),
    ("12", "15"),
    ("14", "15"),
    ("14", "25"),
    ("14", "38"),
    ("15", "25"),
    ("19", "20"),
    ("19", "24"),
    ("19", "25"),
    ("20", "24"),
    ("20", "22"),
    ("22", "24"),
    ("22", "31"),
    ("24", "31"),
    ("24", "33"),
    ("31", "33"),
    ("33", "37"),
    ("25", "37"),
    ("25", "38"),
    ("37", "38"),
    ("38", "40"),
    ("40", "42"),
    ("42", "44"),
    ("44", "46"),
    ("46", "48"),
    ("48", "51"),
    ("51", "52"),
    ("52", "66"),
    ("52", "56"),
    ("56", "66"),
    ("56", "68"),
    ("66", "68"),
    ("68", "75"),
    ("68", "79"),
    ("75", "79"),
    ("75", "80"),
    ("79", "80"),
    ("79", "82"),
    ("80", "82"),
    ("82", "86"),
    ("82", "91"),
    ("86", "92"),
    ("91", "92"),
    ("91", "96"),
    ("92", "96"),
];

/// Category codes with their share of incidents (per mille, roughly national police figures).
pub const CATEGORY_MIX: &[(&str, f64)] = &[
    ("criminal.theft", 220.0),
    ("criminal.robbery", 20.0),
    ("criminal.assault", 60.0),
    ("criminal.drugs", 100.0),
    ("criminal.loan_sharking", 20.0),
    ("criminal.human_trafficking", 3.0),
    ("criminal.gambling", 50.0),
    ("criminal.fraud", 50.0),
    ("criminal.other", 30.0),
    ("administrative.violation", 180.0),
    ("traffic.accident", 120.0),
    ("fire.explosion", 20.0),
    ("dispute.complaint", 80.0),
    ("illegal_exit.crossing", 15.0),
    ("social_vice.vice", 20.0),
    ("other.other", 12.0),
];

/// Ten years of Vietnamese calendar days: 2016-01-01 to 2025-12-31.
pub fn first_day() -> Date {
    Date::from_calendar_date(2016, Month::January, 1).expect("a date")
}
pub const DAYS: u64 = 3653;

pub fn vietnam() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).expect("UTC+7")
}

impl Plan {
    pub fn new(seed: u64, incidents: u64, clusters: usize) -> anyhow::Result<Self> {
        let units: Vec<UnitRecord> = parse_units(UNITS)
            .map_err(anyhow::Error::msg)?
            .into_iter()
            .filter(|u| u.dataset == DATASET)
            .collect();
        let mut provinces = Vec::new();
        let mut communes = Vec::new();
        for u in &units {
            match u.level {
                lienhoan_domain::geo::AdminLevel::Province => provinces.push(Province {
                    code: u.code.clone(),
                    name: u.name.clone(),
                }),
                lienhoan_domain::geo::AdminLevel::Commune => communes.push((u, ())),
                _ => {}
            }
        }
        let province_index = |code: &str| provinces.iter().position(|p| p.code == code);
        let mut communes: Vec<Commune> = communes
            .into_iter()
            .map(|(u, ())| {
                let parent = u.parent_code.as_deref().unwrap_or_default();
                Ok(Commune {
                    code: u.code.clone(),
                    name: u.name.clone(),
                    kind: u.kind.clone(),
                    province: province_index(parent)
                        .ok_or_else(|| anyhow::anyhow!("commune {} has no province", u.code))?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        communes.sort_by(|a, b| a.code.cmp(&b.code));
        anyhow::ensure!(
            provinces.len() == 34 && communes.len() == 3321,
            "expected 34 provinces and 3,321 communes in dataset {DATASET}, found {} and {}",
            provinces.len(),
            communes.len()
        );

        let mut rng = Rng::new(seed);
        // Communes of each province in code order: neighbouring codes lie close together.
        let by_province: Vec<Vec<usize>> = (0..provinces.len())
            .map(|p| {
                communes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.province == p)
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        let mut cluster_plans = Vec::with_capacity(clusters);
        for n in 0..clusters {
            let (a, b) = BORDERS[rng.below(BORDERS.len() as u64) as usize];
            let (pa, pb) = (
                province_index(a).expect("a 2025 province"),
                province_index(b).expect("a 2025 province"),
            );
            let size = 2 + rng.below(8) as usize;
            let left = 1 + rng.below(size as u64 - 1) as usize;
            let founded_on =
                first_day() - Duration::days(365) + Duration::days(rng.below(1800) as i64);
            let mut members = Vec::new();
            for (province, take) in [(pa, left), (pb, size - left)] {
                let list = &by_province[province];
                let start = rng.below(list.len() as u64) as usize;
                for k in 0..take.min(list.len()) {
                    let joined_on = if rng.chance(0.15) {
                        founded_on + Duration::days(rng.below(1000) as i64 + 1)
                    } else {
                        founded_on
                    };
                    let left_on = rng
                        .chance(0.1)
                        .then(|| joined_on + Duration::days(365 + rng.below(2500) as i64));
                    members.push(MemberPlan {
                        commune: list[(start + k) % list.len()],
                        joined_on,
                        left_on,
                    });
                }
            }
            cluster_plans.push(ClusterPlan {
                name: format!(
                    "Cụm liên hoàn {} – {} số {}",
                    provinces[pa].name,
                    provinces[pb].name,
                    n + 1
                ),
                founded_on,
                members,
            });
        }

        // Busier wards than rural communes, and a long tail.
        let weights: Vec<f64> = communes
            .iter()
            .map(|c| {
                let urban = if c.kind == "Phường" { 2.5 } else { 1.0 };
                let spread = 0.3 + rng.unit() * rng.unit() * 3.0;
                urban * spread
            })
            .collect();
        let counts = apportion(incidents, &weights);
        Ok(Self {
            seed,
            units,
            provinces,
            communes,
            clusters: cluster_plans,
            counts,
        })
    }

    /// The incidents of one commune's police, the same for the same seed every time.
    pub fn incidents(&self, commune: usize, commune_id: uuid::Uuid) -> Vec<IncidentInput> {
        let mut rng =
            Rng::new(self.seed ^ (commune as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
        (0..self.counts[commune])
            .map(|_| {
                let day = first_day() + Duration::days(rng.below(DAYS) as i64);
                incident(&mut rng, &self.communes[commune], commune_id, day)
            })
            .collect()
    }
}

/// Splits `total` in proportion to `weights`, exactly (largest remainders).
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut rest = total.saturating_sub(counts.iter().sum::<u64>());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.total_cmp(&fa).then(a.cmp(b))
    });
    for i in order {
        if rest == 0 {
            break;
        }
        counts[i] += 1;
        rest -= 1;
    }
    counts
}

const PLACES: &[&str] = &[
    "chợ trung tâm",
    "bến xe khách",
    "quốc lộ",
    "tỉnh lộ",
    "khu dân cư",
    "trường học",
    "cửa hàng tạp hóa",
    "quán karaoke",
    "bãi đất trống",
    "đường liên xã",
];

fn narrative(rng: &mut Rng, category: &str) -> &'static str {
    let options: &[&'static str] = match category {
        "criminal.theft" => &[
            "Trộm cắp xe máy dựng trước nhà",
            "Trộm cắp tài sản trong nhà dân ban đêm",
            "Trộm cắp điện thoại di động",
            "Trộm cắp gia súc của hộ dân",
        ],
        "criminal.robbery" => &["Cướp giật túi xách của người đi đường bằng xe máy"],
        "criminal.assault" => &[
            "Cố ý gây thương tích sau khi uống rượu",
            "Đánh nhau gây rối",
        ],
        "criminal.drugs" => &[
            "Tàng trữ trái phép chất ma túy",
            "Mua bán trái phép chất ma túy qua biên giới",
        ],
        "criminal.loan_sharking" => &["Cho vay lãi nặng (tín dụng đen) và đòi nợ thuê"],
        "criminal.human_trafficking" => &["Mua bán người qua biên giới"],
        "criminal.gambling" => &["Đánh bạc bằng hình thức đá gà", "Tổ chức đánh bạc qua mạng"],
        "criminal.fraud" => &["Lừa đảo chiếm đoạt tài sản qua điện thoại"],
        "administrative.violation" => &[
            "Vi phạm hành chính về trật tự công cộng",
            "Kinh doanh không giấy phép",
        ],
        "traffic.accident" => &[
            "Tai nạn giao thông giữa xe máy và ô tô",
            "Tai nạn giao thông giữa hai xe máy",
        ],
        "fire.explosion" => &["Cháy nhà dân do chập điện", "Cháy rừng sản xuất"],
        "dispute.complaint" => &[
            "Tranh chấp đất đai giữa hai hộ",
            "Khiếu nại về ranh giới đất",
        ],
        "illegal_exit.crossing" => &["Xuất cảnh trái phép qua đường mòn biên giới"],
        "social_vice.vice" => &["Hoạt động mại dâm tại nhà nghỉ"],
        _ => &["Vụ việc khác về an ninh trật tự"],
    };
    options[rng.below(options.len() as u64) as usize]
}

/// One incident on a Vietnamese calendar day, at a random time of that day.
pub fn incident(
    rng: &mut Rng,
    commune: &Commune,
    commune_id: uuid::Uuid,
    day: Date,
) -> IncidentInput {
    let seconds = rng.below(86_400) as u32;
    let at = PrimitiveDateTime::new(
        day,
        Time::from_hms(
            (seconds / 3600) as u8,
            ((seconds / 60) % 60) as u8,
            (seconds % 60) as u8,
        )
        .expect("a time of day"),
    )
    .assume_offset(vietnam())
    .to_offset(UtcOffset::UTC);
    let weights: Vec<f64> = CATEGORY_MIX.iter().map(|(_, w)| *w).collect();
    let category = CATEGORY_MIX[rng.weighted(&weights)].0;
    let group = category.split('.').next().unwrap_or("other");
    // Outcome weights: none, prosecuted, sanctioned.
    let outcome_weights: [f64; 3] = match group {
        "criminal" => [30.0, 55.0, 15.0],
        "administrative" => [20.0, 0.0, 80.0],
        "traffic" => [50.0, 10.0, 40.0],
        "illegal_exit" => [20.0, 20.0, 60.0],
        _ => [70.0, 0.0, 30.0],
    };
    let outcome =
        [Outcome::None, Outcome::Prosecuted, Outcome::Sanctioned][rng.weighted(&outcome_weights)];
    let suspects = if group == "dispute" {
        0
    } else {
        rng.below(4) as i64 + i64::from(outcome != Outcome::None)
    };
    let outcome_people = match outcome {
        Outcome::None => 0,
        _ => 1 + rng.below(suspects.max(1) as u64) as i64,
    };
    let status = match outcome {
        Outcome::None => [
            Status::Received,
            Status::Verifying,
            Status::Investigating,
            Status::Closed,
        ][rng.below(4) as usize],
        _ if rng.chance(0.1) => Status::Transferred,
        _ => Status::Solved,
    };
    let (deaths, injured) = if group == "traffic" {
        (i64::from(rng.chance(0.12)), rng.below(4) as i64)
    } else if category == "criminal.assault" {
        (i64::from(rng.chance(0.02)), 1 + rng.below(2) as i64)
    } else {
        (0, 0)
    };
    let damage_vnd = match group {
        "fire" => rng.below(500_000) as i64 * 1000,
        "criminal" | "traffic" => rng.below(50_000) as i64 * 1000,
        _ => 0,
    };
    let place = format!(
        "{} thôn {}, {} {}",
        PLACES[rng.below(PLACES.len() as u64) as usize],
        1 + rng.below(12),
        commune.kind,
        commune.name
    );
    let narrative = narrative(rng, category).to_owned();
    let reported_at = at + Duration::minutes(rng.below(48 * 60) as i64);
    IncidentInput {
        commune_id,
        place,
        latitude: None,
        longitude: None,
        occurred_at: at,
        reported_at,
        category: category.to_owned(),
        suspects,
        victims: if group == "criminal" {
            rng.below(3) as i64
        } else {
            0
        },
        deaths,
        injured,
        damage_vnd,
        narrative,
        status,
        outcome,
        outcome_people,
        cross_border: rng.chance(0.03),
        shared: None,
    }
}

/// Incidents for the ingest runs: in 2026, after the ten years the statistics read, so that
/// ingesting changes no figure the checks compare.
pub fn fresh_incident(
    rng: &mut Rng,
    commune: &Commune,
    commune_id: uuid::Uuid,
    now: OffsetDateTime,
) -> IncidentInput {
    let start = Date::from_calendar_date(2026, Month::January, 1).expect("a date");
    let today = now.to_offset(vietnam()).date();
    // Reported up to two days later, never in the future.
    let span = ((today - start).whole_days() - 3).max(1) as u64;
    let day = start + Duration::days(rng.below(span) as i64);
    incident(rng, commune, commune_id, day)
}
