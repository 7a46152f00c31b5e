//! The rules of Liên Hoàn, free of storage and transport: types, validation, Vietnamese text
//! conventions, access rules and the audit chain.

pub mod access;
pub mod audit;
pub mod cluster;
pub mod exchange;
pub mod format;
pub mod geo;
pub mod incident;
pub mod login;
pub mod organisation;
pub mod register;
pub mod stats;
pub mod text;
pub mod validation;
