//! Password hashing with argon2id, off the async threads because it is slow on purpose.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use lienhoan_store::{StoreError, StoreResult};

pub async fn hash(password: &str) -> StoreResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Backend(e.to_string()))
    })
    .await
    .map_err(|e| StoreError::Backend(e.to_string()))?
}

/// A hash to check against when the account does not exist, so that the answer takes as long
/// as for a real account.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$m1QXbmfAwnyt4hSFqPThHcY0PVJ1U9yFaYRbkJ4EYGA";

pub async fn verify(password: &str, stored: &str) -> bool {
    let password = password.to_owned();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
