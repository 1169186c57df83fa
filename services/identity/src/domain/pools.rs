//! Pools (namespaces): where an app registers users and where it looks them up (§5.9).

use auth_tokens::AppScope;

use crate::repo::users::DEFAULT_NAMESPACE;

/// The home pool of users registered through `app`: `registration_namespace`, else the
/// first legacy `registration_namespaces` entry, else `default`.
#[must_use]
pub fn home_pool(app: Option<&AppScope>) -> String {
    app.and_then(|a| {
        a.registration_namespace
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| {
                a.registration_namespaces
                    .iter()
                    .find(|n| !n.trim().is_empty())
                    .cloned()
            })
    })
    .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned())
}

/// The pools a login through `app` looks emails up in: its `read_namespaces`, else its
/// home pool; `default` without an app.
#[must_use]
pub fn read_pools(app: Option<&AppScope>) -> Vec<String> {
    let listed: Vec<String> = app
        .map(|a| {
            a.read_namespaces
                .iter()
                .filter(|n| !n.trim().is_empty())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec![home_pool(app)]
    } else {
        listed
    }
}
