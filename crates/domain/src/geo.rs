//! Administrative geography: provinces, districts and communes, each code valid within a
//! dataset version, because codes were reused after the 1 July 2025 reform.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::validation::{Errors, FieldError, NAME_MAX, required_text};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    Province,
    District,
    Commune,
}

impl AdminLevel {
    pub const ALL: [AdminLevel; 3] = [Self::Province, Self::District, Self::Commune];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::District => "district",
            Self::Commune => "commune",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level a unit's parent must have; a 2025 commune sits directly under its province.
    pub fn allowed_parents(self) -> &'static [AdminLevel] {
        match self {
            Self::Province => &[],
            Self::District => &[Self::Province],
            Self::Commune => &[Self::District, Self::Province],
        }
    }
}

/// Dataset versions shipped with the product. Admin-added historical units carry their own
/// validity range and use [`HISTORICAL_DATASET`].
pub const LEGACY_DATASET: &str = "2024";
pub const CURRENT_DATASET: &str = "2025";
pub const HISTORICAL_DATASET: &str = "historical";

/// The first day of the map without districts.
pub const REFORM_DAY: Date = time::macros::date!(2025 - 07 - 01);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUnit {
    pub id: Uuid,
    pub dataset: String,
    pub level: AdminLevel,
    pub code: String,
    pub name: String,
    /// The official type word: Tỉnh, Huyện, Xã, Phường...
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// Other spellings found in documents ("Nà Hang" for the official "Na Hang").
    pub aliases: Vec<String>,
}

impl AdminUnit {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// The validity range of a shipped dataset.
pub fn dataset_validity(dataset: &str) -> (Option<Date>, Option<Date>) {
    match dataset {
        LEGACY_DATASET => (None, REFORM_DAY.previous_day()),
        CURRENT_DATASET => (Some(REFORM_DAY), None),
        _ => (None, None),
    }
}

/// A unit an administrator adds for a place that no shipped list has, such as a district
/// merged before 2025.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHistoricalUnit {
    pub level: AdminLevel,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub valid_from: Option<Date>,
    pub valid_to: Date,
    #[serde(default)]
    pub successor_ids: Vec<Uuid>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl NewHistoricalUnit {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Errors::default();
        errors.check(required_text("name", &self.name, NAME_MAX));
        errors.check(required_text("kind", &self.kind, 40));
        if self.code.is_empty()
            || self.code.len() > 10
            || !self.code.chars().all(|c| c.is_ascii_digit())
        {
            errors.push(FieldError::new("code", "error-admin-code-format"));
        }
        if self.valid_from.is_some_and(|from| from > self.valid_to) {
            errors.push(FieldError::new("valid_to", "error-end-before-start"));
        }
        if self.level != AdminLevel::Province && self.parent_id.is_none() {
            errors.push(FieldError::new("parent_id", "error-required"));
        }
        for (i, alias) in self.aliases.iter().enumerate() {
            errors.check(required_text(&format!("aliases[{i}]"), alias, NAME_MAX));
        }
        errors.into_result()
    }
}

/// One row of the shipped unit list (`assets/geo/units.tsv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecord {
    pub dataset: String,
    pub level: AdminLevel,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: Option<String>,
}

/// One old→new pair of the 2025 reform (`assets/geo/mapping-2025.tsv`); a split unit has
/// several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessionRecord {
    pub level: AdminLevel,
    pub old_code: String,
    pub new_code: String,
}

fn tsv_rows<'a>(
    tsv: &'a str,
    header: &str,
) -> Result<impl Iterator<Item = (usize, Vec<&'a str>)>, String> {
    let mut lines = tsv.lines();
    if lines.next() != Some(header) {
        return Err(format!("expected the header {header:?}"));
    }
    Ok(lines
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| (i + 2, line.split('\t').collect())))
}

pub fn parse_units(tsv: &str) -> Result<Vec<UnitRecord>, String> {
    tsv_rows(tsv, "dataset\tlevel\tcode\tname\tkind\tparent_code")?
        .map(|(line, cols)| {
            let [dataset, level, code, name, kind, parent] = cols[..] else {
                return Err(format!("line {line}: expected 6 columns"));
            };
            Ok(UnitRecord {
                dataset: dataset.into(),
                level: AdminLevel::parse(level)
                    .ok_or_else(|| format!("line {line}: unknown level {level:?}"))?,
                code: code.into(),
                name: name.into(),
                kind: kind.into(),
                parent_code: (!parent.is_empty()).then(|| parent.into()),
            })
        })
        .collect()
}

pub fn parse_successions(tsv: &str) -> Result<Vec<SuccessionRecord>, String> {
    tsv_rows(tsv, "old_code\tnew_code\tlevel")?
        .map(|(line, cols)| {
            let [old, new, level] = cols[..] else {
                return Err(format!("line {line}: expected 3 columns"));
            };
            Ok(SuccessionRecord {
                level: AdminLevel::parse(level)
                    .ok_or_else(|| format!("line {line}: unknown level {level:?}"))?,
                old_code: old.into(),
                new_code: new.into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_the_shipped_formats() {
        let units = parse_units(
            "dataset\tlevel\tcode\tname\tkind\tparent_code\n2024\tprovince\t08\tTuyên Quang\tTỉnh\t\n2024\tdistrict\t072\tNa Hang\tHuyện\t08\n",
        )
        .unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(units[1].parent_code.as_deref(), Some("08"));
        assert_eq!(units[0].parent_code, None);
        assert!(parse_units("wrong header\n").is_err());
        assert!(
            parse_units(
                "dataset\tlevel\tcode\tname\tkind\tparent_code\n2024\tcountry\t1\tX\tY\t\n"
            )
            .is_err()
        );
        let pairs =
            parse_successions("old_code\tnew_code\tlevel\n07912\t07909\tcommune\n").unwrap();
        assert_eq!(pairs[0].new_code, "07909");
    }

    #[test]
    fn the_shipped_files_parse() {
        let units = parse_units(include_str!("../../../assets/geo/units.tsv")).unwrap();
        assert!(units.len() > 14_000);
        let pairs =
            parse_successions(include_str!("../../../assets/geo/mapping-2025.tsv")).unwrap();
        assert!(pairs.len() > 10_000);
    }

    #[test]
    fn shipped_datasets_meet_at_the_reform() {
        let legacy = dataset_validity(LEGACY_DATASET);
        let current = dataset_validity(CURRENT_DATASET);
        assert_eq!(legacy.1, Some(date!(2025 - 06 - 30)));
        assert_eq!(current.0, Some(date!(2025 - 07 - 01)));
    }

    #[test]
    fn historical_unit_validation() {
        let ok = NewHistoricalUnit {
            level: AdminLevel::District,
            code: "047".into(),
            name: "Trà Lĩnh".into(),
            kind: "Huyện".into(),
            parent_id: Some(Uuid::nil()),
            valid_from: None,
            valid_to: date!(2020 - 02 - 29),
            successor_ids: vec![],
            aliases: vec![],
        };
        assert!(ok.validate().is_ok());
        type Edit = fn(&mut NewHistoricalUnit);
        let cases: [(Edit, &str); 4] = [
            (|u| u.code = "04A".into(), "code"),
            (|u| u.name = " ".into(), "name"),
            (|u| u.parent_id = None, "parent_id"),
            (|u| u.valid_from = Some(date!(2021 - 01 - 01)), "valid_to"),
        ];
        for (change, field) in cases {
            let mut unit = ok.clone();
            change(&mut unit);
            let errors = unit.validate().unwrap_err();
            assert_eq!(errors[0].field, field);
        }
    }
}
