//! Pure rules: the stored form of an event and the hash chain.

pub mod chain;
pub mod record;
