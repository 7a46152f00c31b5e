//! `lienhoan demo`: loads the demo world. Every step first looks for what it would create, so
//! running it again adds nothing.

mod exchange;
mod incidents;
mod seed;

use std::collections::HashMap;

use anyhow::{Context, anyhow};
use lienhoan_domain::access::{Actor, NewUser};
use lienhoan_domain::cluster::{
    BoardMemberInput, ClusterInput, MembershipInput, RegulationInput, RotationTurn,
};
use lienhoan_domain::format::parse_date;
use lienhoan_domain::geo::{HISTORICAL_DATASET, LEGACY_DATASET, NewHistoricalUnit};
use lienhoan_domain::organisation::OrganisationInput;
use lienhoan_store::{OrganisationQuery, Store, StoreError};
use time::Date;
use uuid::Uuid;

pub use seed::{ACCOUNTS, DEMO_PASSWORD};
use seed::{ALIASES, CLUSTERS, ClusterSeed, HISTORICAL, ORGANISATIONS, Place};

fn day(text: &str) -> anyhow::Result<Date> {
    parse_date(text).ok_or_else(|| anyhow!("bad date in demo data: {text}"))
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub organisations_added: usize,
    pub clusters_added: usize,
    pub accounts_added: usize,
}

pub async fn load(store: &dyn Store) -> anyhow::Result<DemoSummary> {
    let system = Actor::system();
    crate::geo::import(store, false).await?;
    add_historical_units(store, &system).await?;
    for (code, alias) in ALIASES {
        let unit = store.admin_unit_by_code(LEGACY_DATASET, code).await?;
        store.add_unit_alias(&system, unit.id, alias).await?;
    }
    let mut summary = DemoSummary::default();
    let orgs = add_organisations(store, &system, &mut summary).await?;
    let today = lienhoan_domain::format::local_date(time::OffsetDateTime::now_utc());
    let existing: Vec<String> = store
        .list_clusters(&system, today)
        .await?
        .into_iter()
        .map(|c| c.cluster.name)
        .collect();
    for cluster in CLUSTERS {
        if !existing.iter().any(|name| name == cluster.name) {
            add_cluster(store, &system, cluster, &orgs)
                .await
                .with_context(|| format!("demo cluster {}", cluster.name))?;
            summary.clusters_added += 1;
        }
    }
    for (username, name, role, org) in ACCOUNTS {
        if store.user_by_username(&system, username).await.is_ok() {
            continue;
        }
        let input = NewUser {
            username: (*username).into(),
            display_name: (*name).into(),
            password: DEMO_PASSWORD.into(),
            organisation_id: org.map(|o| orgs[o]),
            role: *role,
        };
        store.create_user(&system, &input, true).await?;
        summary.accounts_added += 1;
    }
    if summary.accounts_added == ACCOUNTS.len() {
        let clusters = store.list_clusters(&system, today).await?;
        let song_lo = clusters
            .iter()
            .find(|c| c.cluster.name == CLUSTERS[2].name)
            .context("the Sông Lô – Sơn Dương cluster")?;
        exchange::add(store, song_lo.cluster.id).await?;
    }
    Ok(summary)
}

async fn add_historical_units(store: &dyn Store, system: &Actor) -> anyhow::Result<()> {
    for unit in HISTORICAL {
        if store
            .admin_unit_by_code(HISTORICAL_DATASET, unit.code)
            .await
            .is_ok()
        {
            continue;
        }
        let parent = store
            .admin_unit_by_code(LEGACY_DATASET, unit.parent)
            .await?;
        let mut successor_ids = Vec::new();
        for code in unit.successors {
            successor_ids.push(store.admin_unit_by_code(LEGACY_DATASET, code).await?.id);
        }
        let input = NewHistoricalUnit {
            level: unit.level,
            code: unit.code.into(),
            name: unit.name.into(),
            kind: unit.kind.into(),
            parent_id: Some(parent.id),
            valid_from: None,
            valid_to: day(unit.valid_to)?,
            successor_ids,
            aliases: Vec::new(),
        };
        store
            .add_historical_unit(system, &input)
            .await
            .with_context(|| format!("historical unit {}", unit.name))?;
    }
    Ok(())
}

async fn place_id(store: &dyn Store, place: Place) -> anyhow::Result<Uuid> {
    let (dataset, code) = match place {
        Place::Listed(code) => (LEGACY_DATASET, code),
        Place::Historical(code) => (HISTORICAL_DATASET, code),
    };
    Ok(store
        .admin_unit_by_code(dataset, code)
        .await
        .with_context(|| format!("admin unit {dataset}/{code}"))?
        .id)
}

async fn add_organisations(
    store: &dyn Store,
    system: &Actor,
    summary: &mut DemoSummary,
) -> anyhow::Result<HashMap<&'static str, Uuid>> {
    let mut ids = HashMap::new();
    for org in ORGANISATIONS {
        let query = OrganisationQuery {
            text: Some(org.name.into()),
            limit: 200,
            offset: 0,
        };
        let found = store
            .list_organisations(&query)
            .await?
            .items
            .into_iter()
            .find(|o| o.organisation.name == org.name);
        let id = match found {
            Some(o) => o.organisation.id,
            None => {
                let input = OrganisationInput {
                    name: org.name.into(),
                    kind: org.kind,
                    admin_unit_id: place_id(store, org.place).await?,
                };
                summary.organisations_added += 1;
                store.create_organisation(system, &input).await?.id
            }
        };
        ids.insert(org.name, id);
    }
    Ok(ids)
}

async fn add_cluster(
    store: &dyn Store,
    system: &Actor,
    seed: &ClusterSeed,
    orgs: &HashMap<&'static str, Uuid>,
) -> anyhow::Result<()> {
    let org = |name: &str| {
        orgs.get(name)
            .copied()
            .ok_or_else(|| anyhow!("demo organisation {name} is not defined"))
    };
    let cluster = store
        .create_cluster(
            system,
            &ClusterInput {
                name: seed.name.into(),
                kind: seed.kind,
                founded_on: day(seed.founded_on)?,
                description: seed.description.into(),
            },
        )
        .await?;
    for (name, joined, left) in seed.members {
        let input = MembershipInput {
            organisation_id: org(name)?,
            joined_on: day(joined)?,
            left_on: left.map(day).transpose()?,
            note: String::new(),
        };
        store.add_member(system, cluster.id, &input).await?;
    }
    for (person, title, role, name) in seed.board {
        let input = BoardMemberInput {
            person_name: (*person).into(),
            title: (*title).into(),
            role: *role,
            organisation_id: org(name)?,
        };
        store.add_board_member(system, cluster.id, &input).await?;
    }
    let turns = seed
        .rotation
        .iter()
        .map(|(name, from, to)| {
            Ok(RotationTurn {
                organisation_id: org(name)?,
                starts_on: day(from)?,
                ends_on: day(to)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    store.set_rotation(system, cluster.id, &turns).await?;
    for (title, signed_on, signatories, body) in seed.regulations {
        let input = RegulationInput {
            title: (*title).into(),
            signed_on: day(signed_on)?,
            signatories: signatories.iter().map(|s| s.to_string()).collect(),
            body: (*body).into(),
        };
        store.add_regulation(system, cluster.id, &input).await?;
    }
    let seed_value = seed
        .founded_on
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    incidents::generate(store, system, seed.incidents, orgs, seed_value).await?;
    Ok(())
}

/// Whether the store already holds anything other than geography, so `serve --demo` leaves a
/// real installation alone.
pub async fn has_accounts(store: &dyn Store) -> Result<bool, StoreError> {
    Ok(!store.list_users(&Actor::system()).await?.is_empty())
}
