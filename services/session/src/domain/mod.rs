//! Pure rules, unit-tested: refresh decisions and the job catalogue.

pub mod jobs;
pub mod refresh;
