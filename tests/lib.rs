//! End-to-end tests of the real binaries behind the real ingress; see e2e/.
