//! The contract every engine must pass: one behaviour, whatever the database.
//!
//! An engine's test file supplies an async function that makes a fresh, migrated, empty store
//! for one case, and expands [`contract_tests!`](crate::contract_tests) with it:
//!
//! ```ignore
//! async fn fresh(case: &'static str) -> Option<lienhoan_store::contract::Fresh> {
//!     // open a new database for `case`, migrate it, wrap it;
//!     // `None` skips the case (print why on stderr).
//! }
//! lienhoan_store::contract_tests!(fresh);
//! ```
//!
//! The macro makes one `#[tokio::test]` per case, so a failure names its case. Each case is a
//! public async function taking `&dyn Store` (or an `Arc` for the cases that spawn tasks),
//! written in the module of its area (`geo`, `organisations`, `clusters`, `accounts`, `audit`,
//! `concurrency`, `incidents`, `statistics`) and re-exported here. What the cases share
//! (fixture data, logins, assertions on errors) is in `fixtures`, also re-exported.

mod accounts;
mod audit;
mod clusters;
mod concurrency;
mod fixtures;
mod geo;
mod incidents;
mod organisations;
mod statistics;

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::Store;

pub use accounts::*;
pub use audit::*;
pub use clusters::*;
pub use concurrency::*;
pub use fixtures::*;
pub use geo::*;
pub use incidents::*;
pub use organisations::*;
pub use statistics::*;

// ---------------------------------------------------------------------------------------------
// Harness

/// A fresh store for one case, with what to do after the case passed (drop the database,
/// remove the file). After a failure the database is left for a look.
pub struct Fresh {
    store: Arc<dyn Store>,
    teardown: Option<BoxFuture<'static, ()>>,
}

impl Fresh {
    pub fn new(store: impl Store + 'static) -> Self {
        Self {
            store: Arc::new(store),
            teardown: None,
        }
    }

    /// Runs after the case passed and the store was dropped.
    pub fn with_teardown(mut self, teardown: impl Future<Output = ()> + Send + 'static) -> Self {
        self.teardown = Some(Box::pin(teardown));
        self
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn shared(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub async fn finish(self) {
        let Self { store, teardown } = self;
        drop(store);
        if let Some(teardown) = teardown {
            teardown.await;
        }
    }
}

/// Expands to one `#[tokio::test]` per contract case. The argument is the path of an
/// `async fn(&'static str) -> Option<Fresh>` that makes a fresh, migrated, empty store for the
/// named case, or returns `None` to skip it. The calling crate must depend on `tokio`.
#[macro_export]
macro_rules! contract_tests {
    ($fresh:path) => {
        $crate::contract_tests!(@borrowed $fresh;
            geo_import_is_idempotent,
            geo_import_is_all_or_nothing,
            geo_search_ignores_diacritics_and_case,
            geo_aliases_are_searchable,
            geo_views_show_successions,
            historical_units_and_their_validation,
            organisations_sort_in_vietnamese_order,
            organisations_search_and_validation,
            clusters_are_created_by_admins_only,
            membership_over_time,
            membership_validation,
            membership_changes,
            cluster_scope_follows_membership,
            cluster_editing_rights,
            user_scope_follows_organisation,
            board_members_come_from_member_organisations,
            rotation_schedules,
            regulation_versions,
            accounts_and_sessions,
            login_failures_are_rate_limited,
            disabling_and_new_passwords_end_sessions,
            user_validation,
            every_successful_write_is_audited_once,
            rejected_writes_are_not_audited,
            audit_log_is_for_auditors_and_admins,
            audit_log_filters,
            incident_validation_names_the_field_and_writes_nothing,
            incident_writes_are_audited_with_before_and_after,
            incident_deletion_needs_a_commander_and_a_reason,
            editing_other_organisations_incidents_is_forbidden,
            incident_status_workflow,
            incident_list_filters,
            incident_import_counts_every_row_and_lists_cap_their_count,
            incident_visibility_matrix,
            incidents_shared_over_two_windows,
            the_longest_texts_are_recorded_and_found,
            statistics_group_by_each_dimension,
            statistics_compare_with_the_year_before,
            statistics_follow_membership_windows,
            statistics_follow_edits_and_deletes,
            statistics_reject_bad_ranges,
            national_statistics_are_for_those_who_see_everything,
            statistics_match_a_scan_of_random_writes,
        );
        $crate::contract_tests!(@shared $fresh;
            concurrent_writes_keep_one_chain,
            verify_during_writes_sees_a_whole_chain,
            concurrent_regulations_get_distinct_versions,
            concurrent_overlapping_joins_admit_one,
            concurrent_incidents_count_once,
        );
    };
    (@borrowed $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(fresh) = $fresh(stringify!($case)).await else {
                    return;
                };
                $crate::contract::$case(fresh.store()).await;
                fresh.finish().await;
            }
        )*
    };
    (@shared $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(fresh) = $fresh(stringify!($case)).await else {
                    return;
                };
                $crate::contract::$case(fresh.shared()).await;
                fresh.finish().await;
            }
        )*
    };
}
