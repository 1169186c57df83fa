//! Repositories: SQL as plain async functions, one module per aggregate.

pub mod apps;
pub mod invitations;
pub mod m2m;
pub mod members;
pub mod org_roles;
pub mod orgs;
pub mod permissions;
pub mod roles;
pub mod users;
