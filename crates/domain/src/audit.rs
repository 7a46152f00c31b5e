//! The audit log as a hash chain. Each entry hashes a canonical encoding of itself together
//! with the previous entry's hash, so any altered, removed or reordered entry breaks the chain.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// The hash that the first entry chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    /// What was done, e.g. `cluster.member.add`.
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    /// Before/after or other facts of the change, as JSON with sorted keys.
    pub summary: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// Truncates to whole microseconds, the precision both engines keep.
pub fn storable_instant(at: OffsetDateTime) -> OffsetDateTime {
    let micros = at.microsecond();
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(micros * 1_000)
        .expect("microseconds fit in nanoseconds")
}

fn field(out: &mut Vec<u8>, value: &str) {
    out.extend_from_slice(value.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    out.push(b';');
}

/// The canonical bytes of an entry: every field length-prefixed, so no two different entries
/// encode alike.
pub fn canonical(entry: &AuditEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let at = storable_instant(entry.at)
        .format(&Rfc3339)
        .expect("a UTC instant formats as RFC 3339");
    field(&mut out, &entry.seq.to_string());
    field(&mut out, &entry.id.to_string());
    field(&mut out, &at);
    field(
        &mut out,
        &entry.actor_id.map(|id| id.to_string()).unwrap_or_default(),
    );
    field(&mut out, &entry.actor_name);
    field(&mut out, &entry.action);
    field(&mut out, &entry.target_kind);
    field(
        &mut out,
        &entry.target_id.map(|id| id.to_string()).unwrap_or_default(),
    );
    field(&mut out, &entry.summary.to_string());
    field(&mut out, &entry.prev_hash);
    out
}

pub fn entry_hash(entry: &AuditEntry) -> String {
    hex::encode(Sha256::digest(canonical(entry)))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's content no longer matches its hash.
    Altered { seq: i64 },
    /// The entry does not chain to the one before it: one was removed or reordered.
    Broken { seq: i64 },
    /// Entries after this sequence number are missing.
    Truncated { last_seq: i64, expected_seq: i64 },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { seq } => write!(f, "entry {seq} was altered: its hash does not match"),
            Self::Broken { seq } => write!(
                f,
                "entry {seq} does not follow the entry before it: an entry was removed or reordered"
            ),
            Self::Truncated {
                last_seq,
                expected_seq,
            } => write!(
                f,
                "the log ends at entry {last_seq} but the chain head records entry {expected_seq}"
            ),
        }
    }
}

/// Walks entries in storage order and checks the chain; `head` is the sequence number and hash
/// the store recorded for its newest entry.
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.into(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.expected_seq || entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Broken { seq: entry.seq });
        }
        if entry_hash(entry) != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        self.checked += 1;
        Ok(())
    }

    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<u64, ChainBreak> {
        let last_seq = self.expected_seq - 1;
        if last_seq != head_seq || self.prev_hash != head_hash {
            return Err(ChainBreak::Truncated {
                last_seq,
                expected_seq: head_seq,
            });
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEntry {
                    seq,
                    id: Uuid::from_u128(seq as u128),
                    at: datetime!(2026-11-22 03:00:00.123456789 UTC),
                    actor_id: Some(Uuid::from_u128(7)),
                    actor_name: "admin".into(),
                    action: "cluster.create".into(),
                    target_kind: "cluster".into(),
                    target_id: None,
                    summary: serde_json::json!({"name": format!("Cụm {seq}")}),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = entry_hash(&e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: &AuditEntry) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head.seq, &head.hash)
    }

    #[test]
    fn intact_chain_verifies() {
        let entries = chain(5);
        assert_eq!(verify(&entries, &entries[4]), Ok(5));
    }

    #[test]
    fn tampering_is_found_and_named() {
        let entries = chain(5);
        let head = entries[4].clone();

        let mut altered = entries.clone();
        altered[2].summary = serde_json::json!({"name": "khác"});
        assert_eq!(verify(&altered, &head), Err(ChainBreak::Altered { seq: 3 }));

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, &head), Err(ChainBreak::Broken { seq: 3 }));

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(
            verify(&reordered, &head),
            Err(ChainBreak::Broken { seq: 3 })
        );

        let truncated = &entries[..4];
        assert_eq!(
            verify(truncated, &head),
            Err(ChainBreak::Truncated {
                last_seq: 4,
                expected_seq: 5
            })
        );
    }

    #[test]
    fn sub_microsecond_precision_does_not_change_the_hash() {
        let mut e = chain(1).remove(0);
        let h = entry_hash(&e);
        e.at = storable_instant(e.at);
        assert_eq!(entry_hash(&e), h);
    }
}
