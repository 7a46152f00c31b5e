//! `lienhoan geo import`: loads the shipped administrative-unit lists.

use indicatif::{ProgressBar, ProgressStyle};
use lienhoan_domain::access::Actor;
use lienhoan_domain::geo::{parse_successions, parse_units};
use lienhoan_store::{GeoImportSummary, Store};

const UNITS: &str = include_str!("../../../assets/geo/units.tsv");
const SUCCESSIONS: &str = include_str!("../../../assets/geo/mapping-2025.tsv");

/// Imports the shipped lists, showing a progress bar when `visible`.
pub async fn import(store: &dyn Store, visible: bool) -> anyhow::Result<GeoImportSummary> {
    let units = parse_units(UNITS).map_err(anyhow::Error::msg)?;
    let successions = parse_successions(SUCCESSIONS).map_err(anyhow::Error::msg)?;
    let bar = if visible {
        ProgressBar::new((units.len() + successions.len()) as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("Địa giới hành chính / administrative units");
    let summary = store
        .import_geo(&Actor::system(), &units, &successions, &|done| {
            bar.set_position(done)
        })
        .await?;
    bar.finish_and_clear();
    Ok(summary)
}
