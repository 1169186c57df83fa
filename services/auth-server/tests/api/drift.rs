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

#[test]
fn the_combined_all_in_one_document_has_one_schema_per_name() {
    // poem-openapi panics when two Rust types register the same schema name; shapes that
    // several services answer with belong in libs/api-types.
    let spec: serde_json::Value =
        serde_json::from_str(&auth_server::openapi().spec()).expect("combined document");
    let per_service: usize = documents::documents()
        .iter()
        .map(|(_, doc)| {
            let doc: serde_json::Value = serde_json::from_str(doc).expect("json");
            doc["paths"].as_object().map_or(0, serde_json::Map::len)
        })
        .sum();
    assert_eq!(
        spec["paths"].as_object().map_or(0, serde_json::Map::len),
        per_service
    );
}
