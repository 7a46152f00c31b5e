//! Loads a [`Plan`] through the product's own Store API (geography, organisations, clusters,
//! accounts, then incidents through the bulk path `import_incidents`) and writes the same
//! records as CSV for DuckDB.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use indicatif::{ProgressBar, ProgressStyle};
use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_domain::cluster::{ClusterInput, ClusterKind, MembershipInput};
use lienhoan_domain::format::local_date;
use lienhoan_domain::incident::Outcome;
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use lienhoan_store::Store;
use lienhoan_store_sql::engine::date_text;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dataset::{DATASET, Plan};

pub const PASSWORD: &str = "bench-password-2026";
pub const OFFICERS: usize = 32;
/// At most this many incidents per `import_incidents` call.
const BATCH: usize = 10_000;
/// The time during which at least one import was in flight: the bulk rate's denominator,
/// leaving out the generation of rows between imports.
#[derive(Default)]
struct Busy(Mutex<BusyTime>);

#[derive(Default)]
struct BusyTime {
    in_flight: usize,
    since: Option<Instant>,
    total: Duration,
}

struct BusyWhile<'a>(&'a Busy);

impl Busy {
    fn start(&self) -> BusyWhile<'_> {
        let mut time = self.0.lock().expect("not poisoned");
        if time.in_flight == 0 {
            time.since = Some(Instant::now());
        }
        time.in_flight += 1;
        BusyWhile(self)
    }

    fn total(&self) -> Duration {
        self.0.lock().expect("not poisoned").total
    }
}

impl Drop for BusyWhile<'_> {
    fn drop(&mut self) {
        let mut time = self.0.0.lock().expect("not poisoned");
        time.in_flight -= 1;
        if time.in_flight == 0
            && let Some(since) = time.since.take()
        {
            time.total += since.elapsed();
        }
    }
}

/// What the later phases need to know about the loaded data.
#[derive(Serialize, Deserialize, Clone)]
pub struct Loaded {
    pub commune_ids: Vec<Uuid>,
    pub organisation_ids: Vec<Uuid>,
    pub province_ids: Vec<Uuid>,
    pub cluster_ids: Vec<Uuid>,
    /// The cluster whose five-year review is measured.
    pub review_cluster: Uuid,
    /// (username, commune index) of the officers the HTTP clients sign in as.
    pub officers: Vec<(String, usize)>,
    pub admin: String,
    /// Seconds spent inside `import_incidents`, and rows written.
    pub import_seconds: f64,
    pub import_rows: u64,
    pub setup_seconds: f64,
}

fn bar(len: u64, message: &str, visible: bool) -> ProgressBar {
    let bar = if visible {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:28} [{bar:40}] {human_pos}/{human_len} {per_sec} ({eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

pub async fn load(
    store: &dyn Store,
    plan: &Plan,
    export: &Path,
    in_flight: usize,
    visible: bool,
) -> anyhow::Result<Loaded> {
    let system = Actor::system();
    let started = Instant::now();
    let geo = bar(plan.units.len() as u64, "administrative units", visible);
    store
        .import_geo(&system, &plan.units, &[], &|n| geo.set_position(n))
        .await
        .context("geography")?;
    geo.finish_and_clear();

    let mut province_ids = Vec::new();
    for p in &plan.provinces {
        province_ids.push(store.admin_unit_by_code(DATASET, &p.code).await?.id);
    }
    let mut commune_ids = Vec::new();
    for c in &plan.communes {
        commune_ids.push(store.admin_unit_by_code(DATASET, &c.code).await?.id);
    }

    let orgs = bar(plan.communes.len() as u64, "police organisations", visible);
    let organisation_ids: Vec<Uuid> = stream::iter(plan.communes.iter().zip(&commune_ids))
        .map(|(c, id)| {
            let input = OrganisationInput {
                name: format!("Công an {} {}", c.kind.to_lowercase(), c.name),
                kind: OrgKind::Police,
                admin_unit_id: *id,
            };
            let system = &system;
            let orgs = &orgs;
            async move {
                let org = store.create_organisation(system, &input).await?;
                orgs.inc(1);
                anyhow::Ok(org.id)
            }
        })
        .buffered(8)
        .try_collect()
        .await
        .context("organisations")?;
    orgs.finish_and_clear();

    let members: usize = plan.clusters.iter().map(|c| c.members.len()).sum();
    let clusters_bar = bar(
        (plan.clusters.len() + members) as u64,
        "clusters and members",
        visible,
    );
    let cluster_ids: Vec<Uuid> = stream::iter(&plan.clusters)
        .map(|c| {
            let system = &system;
            let bar = &clusters_bar;
            let organisation_ids = &organisation_ids;
            async move {
                let cluster = store
                    .create_cluster(
                        system,
                        &ClusterInput {
                            name: c.name.clone(),
                            kind: ClusterKind::InterProvince,
                            founded_on: c.founded_on,
                            description: String::new(),
                        },
                    )
                    .await?;
                bar.inc(1);
                for m in &c.members {
                    store
                        .add_member(
                            system,
                            cluster.id,
                            &MembershipInput {
                                organisation_id: organisation_ids[m.commune],
                                joined_on: m.joined_on,
                                left_on: m.left_on,
                                note: String::new(),
                            },
                        )
                        .await?;
                    bar.inc(1);
                }
                anyhow::Ok(cluster.id)
            }
        })
        .buffered(8)
        .try_collect()
        .await
        .context("clusters")?;
    clusters_bar.finish_and_clear();

    // The review cluster: the largest one whose membership changed during the five years.
    let review = (0..plan.clusters.len())
        .max_by_key(|i| {
            let c = &plan.clusters[*i];
            let changed = c
                .members
                .iter()
                .any(|m| m.left_on.is_some_and(|d| d.year() >= 2021) || m.joined_on.year() >= 2021);
            (changed, c.members.len(), usize::MAX - i)
        })
        .expect("clusters");

    let admin = "bench-admin".to_owned();
    store
        .create_user(
            &system,
            &NewUser {
                username: admin.clone(),
                display_name: "Bench administrator".into(),
                password: PASSWORD.into(),
                organisation_id: None,
                role: Role::Admin,
            },
            false,
        )
        .await?;
    let mut officers = Vec::new();
    for k in 0..OFFICERS {
        let commune = k * plan.communes.len() / OFFICERS;
        let username = format!("bench-officer-{k:02}");
        store
            .create_user(
                &system,
                &NewUser {
                    username: username.clone(),
                    display_name: format!("Bench officer {k}"),
                    password: PASSWORD.into(),
                    organisation_id: Some(organisation_ids[commune]),
                    role: Role::Officer,
                },
                false,
            )
            .await?;
        officers.push((username, commune));
    }
    write_memberships(plan, &organisation_ids, &cluster_ids, export)?;
    let setup_seconds = started.elapsed().as_secs_f64();

    // Incidents through the bulk path, one call per organisation, several in flight as when
    // a province's communes import their spreadsheets at once.
    let total: u64 = plan.counts.iter().sum();
    let incidents = bar(total, "incidents (import_incidents)", visible);
    let mut csv = std::io::BufWriter::new(
        std::fs::File::create(export.join("incidents.csv")).context("incidents.csv")?,
    );
    writeln!(
        csv,
        "organisation_id,province_id,category,outcome,occurred_on,suspects,victims,deaths,injured,damage_vnd,outcome_people"
    )?;
    let importing = Busy::default();
    let mut imported = stream::iter(plan.communes.iter().enumerate())
        .map(|(c, commune)| {
            let (system, importing, incidents) = (&system, &importing, &incidents);
            let (organisation, commune_id) = (organisation_ids[c], commune_ids[c]);
            async move {
                let inputs = plan.incidents(c, commune_id);
                for chunk in inputs.chunks(BATCH) {
                    let _busy = importing.start();
                    let reported = AtomicU64::new(0);
                    store
                        .import_incidents(system, organisation, chunk, &|n| {
                            incidents.inc(n.saturating_sub(reported.swap(n, Ordering::Relaxed)));
                        })
                        .await
                        .with_context(|| format!("incidents of commune {}", commune.code))?;
                }
                anyhow::Ok((c, commune, inputs))
            }
        })
        .buffered(in_flight);
    let mut done = 0u64;
    while let Some((c, commune, inputs)) = imported.try_next().await? {
        done += inputs.len() as u64;
        for i in &inputs {
            writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{},{},{}",
                organisation_ids[c],
                province_ids[commune.province],
                i.category,
                outcome_text(i.outcome),
                date_text(local_date(i.occurred_at)),
                i.suspects,
                i.victims,
                i.deaths,
                i.injured,
                i.damage_vnd,
                i.outcome_people
            )?;
        }
    }
    // The stream borrows the ids that the result takes.
    drop(imported);
    csv.flush()?;
    incidents.finish_and_clear();
    Ok(Loaded {
        commune_ids,
        organisation_ids,
        province_ids,
        review_cluster: cluster_ids[review],
        cluster_ids,
        officers,
        admin,
        import_seconds: importing.total().as_secs_f64(),
        import_rows: done,
        setup_seconds,
    })
}

fn outcome_text(o: Outcome) -> &'static str {
    o.as_str()
}

fn write_memberships(
    plan: &Plan,
    organisation_ids: &[Uuid],
    cluster_ids: &[Uuid],
    export: &Path,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(export.join("memberships.csv"))?);
    writeln!(out, "cluster_id,organisation_id,joined_on,left_on")?;
    for (c, id) in plan.clusters.iter().zip(cluster_ids) {
        for m in &c.members {
            writeln!(
                out,
                "{},{},{},{}",
                id,
                organisation_ids[m.commune],
                date_text(m.joined_on),
                m.left_on.map(date_text).unwrap_or_default()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
