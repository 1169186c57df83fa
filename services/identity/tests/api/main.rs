//! The identity service's API in-process against the real Postgres, Redis and NATS
//! (and, for mail, a real SMTP server on loopback).

mod email;
mod login;
mod magic_link;
mod register;
mod smtp;
mod support;
mod totp;
