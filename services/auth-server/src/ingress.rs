//! The ingress routing table, generated from the services' OpenAPI documents.
//!
//! Every documented path becomes one nginx `location` that proxies to the service whose
//! document lists it: exact locations for static paths, anchored regex locations for paths
//! with parameters. A path documented by two services, or two parameterised paths of
//! different services that can match the same request, is refused: no route may be served
//! by the wrong service.

use std::collections::BTreeMap;

use serde_json::Value;

/// The banner at the top of the generated file.
pub const HEADER: &str = "# Generated from openapi/*.json by `cargo run -p auth-server -- ingress`.\n\
# Do not edit: the ingress test fails when this file and the documents disagree.\n";

/// Why a routing table could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngressError {
    /// A document has no `paths` object.
    #[error("the {service} document has no paths object")]
    NoPaths {
        /// The service whose document is malformed.
        service: String,
    },
    /// Two services document paths that can match one request.
    #[error("{first} ({first_service}) and {second} ({second_service}) can match the same request")]
    Ambiguous {
        /// A path of the first service.
        first: String,
        /// The first service.
        first_service: String,
        /// A path of the second service.
        second: String,
        /// The second service.
        second_service: String,
    },
}

/// One documented path and the service that owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The full path template, prefix included, e.g. `/api/v1/auth/sessions/{sessionId}`.
    pub template: String,
    /// The owning service (an nginx upstream name).
    pub service: String,
}

/// Collects the routes of every `(service, document)` pair; paths are prefixed with the
/// document's first server URL.
pub fn routes(documents: &[(&str, Value)]) -> Result<Vec<Route>, IngressError> {
    let mut by_template: BTreeMap<String, String> = BTreeMap::new();
    let mut all: Vec<Route> = Vec::new();
    for (service, document) in documents {
        let prefix = document["servers"][0]["url"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches('/');
        let paths = document["paths"]
            .as_object()
            .ok_or_else(|| IngressError::NoPaths {
                service: service.to_string(),
            })?;
        for path in paths.keys() {
            let route = Route {
                template: format!("{prefix}{path}"),
                service: service.to_string(),
            };
            for other in &all {
                if other.service != route.service && overlap(&other.template, &route.template) {
                    return Err(IngressError::Ambiguous {
                        first: other.template.clone(),
                        first_service: other.service.clone(),
                        second: route.template.clone(),
                        second_service: route.service.clone(),
                    });
                }
            }
            if by_template
                .insert(route.template.clone(), route.service.clone())
                .is_none()
            {
                all.push(route);
            }
        }
    }
    all.sort_by(|a, b| a.template.cmp(&b.template));
    Ok(all)
}

/// Renders the nginx `location` blocks for `routes`.
pub fn render(routes: &[Route]) -> String {
    let mut out = String::from(HEADER);
    for route in routes {
        if route.template.contains('{') {
            out.push_str(&format!(
                "location ~ ^{}$ {{ proxy_pass http://{}; }}\n",
                regex_of(&route.template),
                route.service
            ));
        } else {
            out.push_str(&format!(
                "location = {} {{ proxy_pass http://{}; }}\n",
                route.template, route.service
            ));
        }
    }
    out
}

/// A concrete path for `template`, with every parameter replaced by `value`.
pub fn sample_path(template: &str, value: &str) -> String {
    template
        .split('/')
        .map(|segment| if is_param(segment) { value } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

fn regex_of(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if is_param(segment) {
                "[^/]+".to_string()
            } else {
                segment.chars().fold(String::new(), |mut acc, c| {
                    if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                        acc.push('\\');
                    }
                    acc.push(c);
                    acc
                })
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether two templates can match one concrete path. Exact (static) locations win over
/// regex ones in nginx, so a static path never overlaps a parameterised one there.
fn overlap(a: &str, b: &str) -> bool {
    let (sa, sb): (Vec<_>, Vec<_>) = (a.split('/').collect(), b.split('/').collect());
    let static_a = !a.contains('{');
    let static_b = !b.contains('{');
    if static_a != static_b {
        return false;
    }
    sa.len() == sb.len()
        && sa
            .iter()
            .zip(&sb)
            .all(|(x, y)| x == y || is_param(x) || is_param(y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(paths: &[&str]) -> Value {
        let paths: serde_json::Map<String, Value> =
            paths.iter().map(|p| (p.to_string(), json!({}))).collect();
        json!({"servers": [{"url": "/api/v1"}], "paths": paths})
    }

    #[test]
    fn static_and_parameterised_paths_render_to_locations() {
        let routes = routes(&[
            ("identity", doc(&["/auth/me"])),
            ("session", doc(&["/auth/sessions/{sessionId}"])),
        ])
        .expect("routes");
        let conf = render(&routes);
        assert!(conf.contains("location = /api/v1/auth/me { proxy_pass http://identity; }"));
        assert!(
            conf.contains(
                "location ~ ^/api/v1/auth/sessions/[^/]+$ { proxy_pass http://session; }"
            )
        );
    }

    #[test]
    fn overlapping_templates_of_two_services_are_refused() {
        let result = routes(&[
            ("identity", doc(&["/admin/users/{userId}/x"])),
            ("authz", doc(&["/admin/users/{id}/x"])),
        ]);
        assert!(matches!(result, Err(IngressError::Ambiguous { .. })));
    }

    #[test]
    fn static_path_beside_a_parameterised_one_is_fine() {
        let result = routes(&[
            ("identity", doc(&["/admin/users/lookup"])),
            ("session", doc(&["/admin/users/{userId}"])),
        ]);
        assert!(result.is_ok());
    }

    #[test]
    fn regex_escapes_dots_and_sample_path_fills_parameters() {
        assert_eq!(regex_of("/a.b/{x}"), "/a\\.b/[^/]+");
        assert_eq!(sample_path("/x/{id}/y", "7"), "/x/7/y");
    }
}
