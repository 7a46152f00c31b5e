//! The names that organisations and administrative units are shown with, remembered for a
//! moment like the other memos (see [`crate::memo`]): a page of incidents then reads its rows
//! and no names, where joining two tables for each of its 50 rows was over a third of the
//! buffers PostgreSQL read for an officer's page, and a national report by unit reads its
//! 3,321 labels from memory while they are remembered.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use uuid::Uuid;

use crate::SqlStore;
use crate::bulk::rows_with_ids;
use crate::engine::{EngineError, Reader};
use crate::memo::Memo;

/// What a name is of.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Named {
    Organisation,
    /// A commune or a province, with its kind ("Xã Tú Thịnh", "Tỉnh Tuyên Quang").
    AdminUnit,
}

impl Named {
    /// Reads `id` and `name`, ending with the column that [`rows_with_ids`] matches.
    fn select(self) -> &'static str {
        match self {
            Self::Organisation => "SELECT id, name FROM organisations WHERE id",
            Self::AdminUnit => "SELECT id, kind || ' ' || name AS name FROM admin_units WHERE id",
        }
    }
}

#[derive(Default)]
pub(crate) struct NameMemos {
    organisations: Memo<Uuid, Arc<str>>,
    /// Never forgotten: a unit keeps its name (a renamed place is a new unit that succeeds it).
    admin_units: Memo<Uuid, Arc<str>>,
}

impl NameMemos {
    fn of(&self, named: Named) -> &Memo<Uuid, Arc<str>> {
        match named {
            Named::Organisation => &self.organisations,
            Named::AdminUnit => &self.admin_units,
        }
    }

    /// After a commit that changed an organisation (see [`crate::commit_then`]).
    pub(crate) fn forget_organisations(&self) {
        self.organisations.forget(|_| false);
    }
}

/// Names by id, as [`SqlStore::names`] found them.
pub(crate) struct Names {
    named: Named,
    names: HashMap<Uuid, Arc<str>>,
}

impl Names {
    /// The name of `id`, if it was asked for and has a row.
    pub(crate) fn get(&self, id: Uuid) -> Option<&str> {
        self.names.get(&id).map(|name| &**name)
    }

    /// The name of `id`, which a foreign key guarantees.
    pub(crate) fn of(&self, id: Uuid) -> Result<String, EngineError> {
        self.get(id)
            .map(str::to_owned)
            .ok_or_else(|| EngineError::Other(format!("no name for {:?} {id}", self.named)))
    }
}

impl SqlStore {
    /// The names of `ids` that exist: remembered ones from memory, the others in one read.
    pub(crate) async fn names(
        &self,
        named: Named,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<Names, EngineError> {
        let memo = self.names.of(named);
        let mut names = HashMap::new();
        let mut missing = BTreeSet::new();
        // The first miss's mark: the earliest, so that nothing read is trusted for longer.
        let mut lookup = None;
        for id in ids {
            if names.contains_key(&id) || missing.contains(&id) {
                continue;
            }
            match memo.recall(&id, |_| true) {
                Ok(name) => {
                    names.insert(id, name);
                }
                Err(mark) => {
                    lookup.get_or_insert(mark);
                    missing.insert(id);
                }
            }
        }
        if let Some(lookup) = lookup {
            let rows = rows_with_ids(Reader::Once(self.engine_ref()), named.select(), missing);
            for row in rows.await? {
                let (id, name) = (row.uuid("id")?, Arc::<str>::from(row.text("name")?));
                memo.remember(lookup, id, name.clone());
                names.insert(id, name);
            }
        }
        Ok(Names { named, names })
    }
}
