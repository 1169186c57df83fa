//! The authz service's API in-process against the real Postgres, Redis and NATS.

mod apps;
mod helpers;
mod invitation_mail;
mod invitations;
mod m2m;
mod m2m_throttle;
mod m2m_timing;
mod org_custom_roles;
mod org_flow;
mod org_members;
mod org_self;
mod orgs;
mod permissions;
mod roles;
mod walk;
