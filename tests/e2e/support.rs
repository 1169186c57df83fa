//! Starting the platform for a test and reading the committed OpenAPI documents.

use std::path::PathBuf;

use testkit::{Ingress, ServiceProcess, TestEnv};

/// The four services and their port variables.
pub const SERVICES: [(&str, &str); 4] = [
    ("identity", "IDENTITY_PORT"),
    ("session", "SESSION_PORT"),
    ("authz", "AUTHZ_PORT"),
    ("audit", "AUDIT_PORT"),
];

/// The four services of one test behind one ingress.
pub struct Platform {
    pub env: TestEnv,
    pub services: Vec<ServiceProcess>,
    pub ingress: Ingress,
}

impl Platform {
    pub async fn start() -> Self {
        let env = TestEnv::new().await;
        let vars = env.vars();
        let mut services = Vec::new();
        for (name, port_var) in SERVICES {
            let process = ServiceProcess::spawn(name, &vars, port_var)
                .await
                .unwrap_or_else(|e| panic!("starting {name}: {e:#}"));
            services.push(process);
        }
        let upstreams: Vec<(&str, u16)> =
            services.iter().map(|s| (s.name.as_str(), s.port)).collect();
        let ingress = Ingress::start(&upstreams).await.expect("starting nginx");
        Self {
            env,
            services,
            ingress,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.ingress.base_url())
    }
}

/// `(service, method, path template)` of every operation in the committed documents.
pub fn documented_operations() -> Vec<(String, String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let mut ops = Vec::new();
    for (service, _) in SERVICES {
        let text = std::fs::read_to_string(dir.join(format!("{service}.json")))
            .expect("committed document");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("document is JSON");
        let prefix = doc["servers"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                ops.push((
                    service.to_owned(),
                    method.to_uppercase(),
                    format!("{prefix}{path}"),
                ));
            }
        }
    }
    assert!(!ops.is_empty(), "the committed documents list no operation");
    ops
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().expect("http client")
}
