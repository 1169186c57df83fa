//! Loading settings from explicit variable maps: defaults, every refusal naming its
//! variable, URL conveniences, and secrets kept out of `Debug`.

mod defaults;
mod refusals;
mod secrets;

use auth_settings::{Settings, SettingsError};

pub(crate) const ACCESS: &str = "k3Jr9vQ2xW7mT1pL5nB8cY4hF6dG0sZa";
pub(crate) const REFRESH: &str = "Q9w8E7r6T5y4U3i2O1p0AsDfGhJkLzXc";

fn base() -> Vec<(String, String)> {
    vec![
        ("JWT_ACCESS_SECRET".into(), ACCESS.into()),
        ("JWT_REFRESH_SECRET".into(), REFRESH.into()),
    ]
}

pub(crate) fn load(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let mut vars = base();
    vars.extend(extra.iter().map(|(k, v)| ((*k).into(), (*v).into())));
    Settings::from_vars(vars)
}

/// Asserts the load fails, names `var`, and the message contains `fragment`.
pub(crate) fn refused(extra: &[(&str, &str)], var: &str, fragment: &str) -> String {
    let err = match load(extra) {
        Ok(_) => panic!("{extra:?} should be refused"),
        Err(e) => e,
    };
    let text = err.to_string();
    assert!(err.names(var), "{var} not named in: {text}");
    assert!(text.contains(var), "{text}");
    assert!(text.contains(fragment), "{fragment:?} missing from: {text}");
    text
}
