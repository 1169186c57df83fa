//! Pure rules and newtypes of the authz service (no I/O), unit-tested.

pub mod apps;
pub mod invitations;
pub mod m2m;
pub mod oauth;
pub mod orgs;
pub mod permissions;
pub mod secret;

/// A refused field: its name and the message.
pub type FieldError = (&'static str, &'static str);
