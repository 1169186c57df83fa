//! JWT-09 and configuration loading (contract §5.7, §7.1).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jwt_verify::{ConfigError, NoRevocation, Verifier, VerifierConfig};

use crate::support::*;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn jwt_09_weak_or_placeholder_secrets_are_refused() {
    for secret in [
        "short",
        "changeme",
        "ChangeMe",
        "secret",
        "changeme-changeme-changeme-changeme-1",
        "please-replace-me-with-a-long-random-value",
    ] {
        let cfg = VerifierConfig::new(secret, ISS, AUD);
        assert!(
            matches!(cfg.validate(), Err(ConfigError::WeakSecret { .. })),
            "{secret}"
        );
        assert!(Verifier::new(cfg, Arc::new(NoRevocation)).is_err());
    }
    let cfg = VerifierConfig::new(ACCESS, ISS, AUD).with_previous_secret(ACCESS);
    assert_eq!(
        cfg.validate(),
        Err(ConfigError::PreviousEqualsActive(
            "JWT_ACCESS_SECRET_PREVIOUS"
        ))
    );
    let cfg = VerifierConfig::new(ACCESS, ISS, AUD).with_previous_secret("short");
    assert!(matches!(
        cfg.validate(),
        Err(ConfigError::WeakSecret {
            var: "JWT_ACCESS_SECRET_PREVIOUS",
            ..
        })
    ));
    let cfg = VerifierConfig::new(ACCESS, ISS, AUD).with_refresh_secrets(ACCESS, None);
    assert_eq!(cfg.validate(), Err(ConfigError::AccessEqualsRefresh));
    let cfg = VerifierConfig::new(ACCESS, ISS, AUD).with_leeway(Duration::from_secs(61));
    assert_eq!(cfg.validate(), Err(ConfigError::LeewayTooLarge));
}

#[test]
fn config_is_read_from_the_contract_variables() {
    assert_eq!(
        VerifierConfig::from_lookup(lookup(&[])).unwrap_err(),
        ConfigError::Missing("JWT_ACCESS_SECRET")
    );
    let access = std::str::from_utf8(ACCESS).unwrap();
    let cfg = VerifierConfig::from_lookup(lookup(&[("JWT_ACCESS_SECRET", access)])).unwrap();
    assert_eq!(
        (cfg.issuer.as_str(), cfg.audience.as_str(), cfg.leeway),
        ("ven-auth", "ven-platform", Duration::from_secs(30))
    );
    let previous = std::str::from_utf8(PREVIOUS).unwrap();
    let cfg = VerifierConfig::from_lookup(lookup(&[
        ("JWT_ACCESS_SECRET", access),
        ("JWT_ACCESS_SECRET_PREVIOUS", previous),
        ("JWT_ISSUER", "my-iss"),
        ("JWT_AUDIENCE", " svc-a , svc-b"),
    ]))
    .unwrap();
    assert_eq!(
        (cfg.issuer.as_str(), cfg.audience.as_str()),
        ("my-iss", "svc-a")
    );
    assert_eq!(cfg.previous_access_secret.as_deref(), Some(PREVIOUS));
    // Secrets never appear in Debug output.
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains(access) && !dbg.contains(previous), "{dbg}");
}
