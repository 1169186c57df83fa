//! The OpenAPI documents committed under `openapi/`, one per service.

use std::path::Path;

/// The API prefix the committed documents (and the ingress) use.
pub const DOCUMENT_PREFIX: &str = "/api/v1";

/// `(service, pretty JSON document)` for each service, with `DOCUMENT_PREFIX` as server.
pub fn documents() -> Vec<(&'static str, String)> {
    vec![
        (
            identity::NAME,
            identity::openapi().server(DOCUMENT_PREFIX).spec(),
        ),
        (
            session::NAME,
            session::openapi().server(DOCUMENT_PREFIX).spec(),
        ),
        (authz::NAME, authz::openapi().server(DOCUMENT_PREFIX).spec()),
        (audit::NAME, audit::openapi().server(DOCUMENT_PREFIX).spec()),
    ]
    .into_iter()
    .map(|(name, spec)| (name, format!("{}\n", spec.trim_end())))
    .collect()
}

/// Writes `<dir>/<service>.json` for every service.
pub fn write_documents(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, doc) in documents() {
        std::fs::write(dir.join(format!("{name}.json")), doc)?;
    }
    Ok(())
}

/// Reads `<dir>/<service>.json` for every service, parsed.
pub fn read_documents(dir: &Path) -> anyhow::Result<Vec<(&'static str, serde_json::Value)>> {
    documents()
        .into_iter()
        .map(|(name, _)| {
            let path = dir.join(format!("{name}.json"));
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            Ok((name, serde_json::from_str(&text)?))
        })
        .collect()
}
