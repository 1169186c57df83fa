//! Drift checks: the committed `openapi/*.json` and `deploy/nginx/routes.conf` must be what
//! the code generates today.

use std::path::PathBuf;

use auth_server::{documents, ingress};

const REGENERATE: &str = "cargo run -p auth-server -- openapi --out openapi && \
cargo run -p auth-server -- ingress --openapi openapi --out deploy/nginx/routes.conf";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn committed_openapi_documents_match_the_code() {
    for (service, generated) in documents::documents() {
        let path = root().join(format!("openapi/{service}.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date with the {service} API; regenerate with: {REGENERATE}",
            path.display()
        );
    }
}

#[test]
fn committed_ingress_routes_match_the_documents() {
    let docs = documents::read_documents(&root().join("openapi")).expect("committed documents");
    let routes = ingress::routes(&docs).expect("unambiguous routes");
    let committed =
        std::fs::read_to_string(root().join("deploy/nginx/routes.conf")).unwrap_or_default();
    assert!(
        committed == ingress::render(&routes),
        "deploy/nginx/routes.conf is out of date; regenerate with: {REGENERATE}"
    );
    for (service, doc) in &docs {
        let count = doc["paths"].as_object().map_or(0, serde_json::Map::len);
        let routed = routes.iter().filter(|r| r.service == *service).count();
        assert_eq!(count, routed, "every {service} path has one ingress route");
    }
}
