//! Start-up refuses bad configuration (JWT-09), and the compose file describes a valid
//! topology.

use std::process::Command;

use testkit::{TestEnv, binary_path};

fn run_with(binary: &str, overrides: &[(&str, &str)], vars: &[(String, String)]) -> (bool, String) {
    let mut cmd = Command::new(binary_path(binary));
    cmd.env_clear()
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    for (k, v) in overrides {
        cmd.env(k, v);
    }
    let out = cmd.env("IDENTITY_PORT", "0").output().expect("run binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn weak_or_missing_secrets_stop_the_start_naming_the_variable() {
    let env = TestEnv::new().await;
    let vars = env.vars();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("JWT_ACCESS_SECRET", "short")], "JWT_ACCESS_SECRET"),
        (&[("JWT_ACCESS_SECRET", "changeme")], "JWT_ACCESS_SECRET"),
        (&[("JWT_REFRESH_SECRET", "")], "JWT_REFRESH_SECRET"),
        (&[("BCRYPT_COST", "9")], "BCRYPT_COST"),
    ];
    for (overrides, variable) in cases {
        let (ok, output) = run_with("identity", overrides, &vars);
        assert!(!ok, "identity started with {overrides:?}");
        assert!(
            output.contains(variable),
            "{overrides:?}: output does not name {variable}: {output}"
        );
        assert!(
            !output.contains("changeme"),
            "the refused secret was printed: {output}"
        );
    }
}

#[test]
fn docker_compose_file_is_valid() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("docker-compose")
        .current_dir(&root)
        .args(["-f", "docker-compose.yml", "config", "-q"])
        .env(
            "JWT_ACCESS_SECRET",
            "compose-check-access-secret-0123456789",
        )
        .env(
            "JWT_REFRESH_SECRET",
            "compose-check-refresh-secret-012345678",
        )
        .output()
        .expect("docker-compose must be installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "docker-compose config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
