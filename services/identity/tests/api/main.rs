//! The identity service's API in-process against the real Postgres, Redis and NATS
//! (and, for mail, a real SMTP server on loopback).

mod account;
mod admin_actions;
mod admin_users;
mod cognito;
mod email;
mod login;
mod magic_link;
mod migration;
mod namespaces;
mod register;
mod sso_fake;
mod sso_oidc;
mod sso_support;
mod support;
mod totp;
mod totp_seal;
mod webhooks;
