//! Pure rules and newtypes of the authz service (no I/O), unit-tested.

pub mod m2m;
pub mod oauth;
pub mod secret;
