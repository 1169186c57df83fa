//! `/admin/jobs*` (contract §2.11): the cleanup jobs' status, manual runs, pause and resume.
//! Platform-admin routes: `system_admin` or `super_admin` (decision §9.8).

use auth_edge::{ApiError, ErrorEnvelope};
use auth_host::Platform;
use jwt_verify::poem::BearerAuth;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::dto::rfc3339;
use super::gate;
use crate::domain::jobs::JobName;
use crate::error::internal;
use crate::repo::jobs::{self as repo, JobRow, STATUS_RUNNING};

/// One job's schedule and last run.
#[derive(Debug, Object)]
pub struct JobStatus {
    /// Job name, e.g. `cleanup.refresh_tokens`.
    pub name: String,
    /// Whether the schedule is paused (a manual trigger still runs it).
    pub paused: bool,
    /// Whether a run is in progress on some replica.
    pub running: bool,
    /// Seconds between scheduled runs.
    pub interval_seconds: i32,
    /// Start of the last run (RFC 3339).
    #[oai(skip_serializing_if_is_none)]
    pub last_run_at: Option<String>,
    /// End of the last run (RFC 3339).
    #[oai(skip_serializing_if_is_none)]
    pub last_finished_at: Option<String>,
    /// `running`, `succeeded` or `failed`.
    #[oai(skip_serializing_if_is_none)]
    pub last_status: Option<String>,
    /// Why the last run failed.
    #[oai(skip_serializing_if_is_none)]
    pub last_error: Option<String>,
    /// Rows the last run removed.
    #[oai(skip_serializing_if_is_none)]
    pub last_affected: Option<i64>,
    /// When the next scheduled run is due (RFC 3339).
    #[oai(skip_serializing_if_is_none)]
    pub next_run_at: Option<String>,
}

impl From<JobRow> for JobStatus {
    fn from(r: JobRow) -> Self {
        Self {
            running: r.last_status.as_deref() == Some(STATUS_RUNNING),
            name: r.name,
            paused: r.paused,
            interval_seconds: r.interval_seconds,
            last_run_at: r.last_started_at.map(rfc3339),
            last_finished_at: r.last_finished_at.map(rfc3339),
            last_status: r.last_status,
            last_error: r.last_error,
            last_affected: r.last_affected,
            next_run_at: r.next_run_at.map(rfc3339),
        }
    }
}

/// `GET /admin/jobs` reply.
#[derive(Debug, Object)]
pub struct JobList {
    /// Every job.
    pub jobs: Vec<JobStatus>,
}

/// `POST /admin/jobs/{name}/trigger` reply.
#[derive(Debug, Object)]
pub struct Triggered {
    /// The job started.
    pub triggered: String,
}

/// `POST /admin/jobs/{name}/pause` reply.
#[derive(Debug, Object)]
pub struct Paused {
    /// The job paused.
    pub paused: String,
}

/// `POST /admin/jobs/{name}/resume` reply.
#[derive(Debug, Object)]
pub struct Resumed {
    /// The job resumed.
    pub resumed: String,
}

macro_rules! job_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $body:ty) => {
        $(#[$doc])*
        #[derive(ApiResponse)]
        pub enum $name {
            /// Done.
            #[oai(status = $status)]
            Ok(Json<$body>),
            /// Missing or invalid bearer token.
            #[oai(status = 401)]
            Unauthorized(Json<ErrorEnvelope>),
            /// Neither `system_admin` nor `super_admin` (`INSUFFICIENT_PERMISSIONS`).
            #[oai(status = 403)]
            Forbidden(Json<ErrorEnvelope>),
            /// No such job (`NOT_FOUND` "job not found").
            #[oai(status = 404)]
            NotFound(Json<ErrorEnvelope>),
        }
    };
}

job_response!(
    /// Replies of `GET /admin/jobs`.
    ListJobsResponse, 200, JobList
);
job_response!(
    /// Replies of `GET /admin/jobs/{name}`.
    GetJobResponse, 200, JobStatus
);
job_response!(
    /// Replies of `POST /admin/jobs/{name}/trigger`.
    TriggerJobResponse, 202, Triggered
);
job_response!(
    /// Replies of `POST /admin/jobs/{name}/pause`.
    PauseJobResponse, 200, Paused
);
job_response!(
    /// Replies of `POST /admin/jobs/{name}/resume`.
    ResumeJobResponse, 200, Resumed
);

fn job(name: &str) -> Result<JobName, ApiError> {
    JobName::parse(name).ok_or_else(|| ApiError::not_found("job not found"))
}

/// Cleanup jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct JobsApi;

#[OpenApi(tag = "ApiTags::AdminJobs")]
impl JobsApi {
    /// Every cleanup job with its schedule and last run.
    #[oai(path = "/admin/jobs", method = "get", operation_id = "listJobs")]
    async fn list(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
    ) -> poem::Result<ListJobsResponse> {
        gate::platform_admin(&auth.0)?;
        let rows = repo::list(&platform.db).await.map_err(internal)?;
        Ok(ListJobsResponse::Ok(Json(JobList {
            jobs: rows.into_iter().map(JobStatus::from).collect(),
        })))
    }

    /// One job's schedule and last run.
    #[oai(path = "/admin/jobs/:name", method = "get", operation_id = "getJob")]
    async fn get(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// The job name.
        name: Path<String>,
    ) -> poem::Result<GetJobResponse> {
        gate::platform_admin(&auth.0)?;
        let row = repo::get(&platform.db, job(&name.0)?)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::not_found("job not found"))?;
        Ok(GetJobResponse::Ok(Json(row.into())))
    }

    /// Runs a job now, in the background (also when paused; skipped if already running).
    #[oai(
        path = "/admin/jobs/:name/trigger",
        method = "post",
        operation_id = "triggerJob"
    )]
    async fn trigger(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// The job name.
        name: Path<String>,
    ) -> poem::Result<TriggerJobResponse> {
        gate::platform_admin(&auth.0)?;
        let job = job(&name.0)?;
        crate::jobs::trigger(&platform, job);
        Ok(TriggerJobResponse::Ok(Json(Triggered {
            triggered: job.as_str().to_owned(),
        })))
    }

    /// Pauses a job's schedule on every replica.
    #[oai(
        path = "/admin/jobs/:name/pause",
        method = "post",
        operation_id = "pauseJob"
    )]
    async fn pause(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// The job name.
        name: Path<String>,
    ) -> poem::Result<PauseJobResponse> {
        gate::platform_admin(&auth.0)?;
        let job = job(&name.0)?;
        repo::set_paused(&platform.db, job, true)
            .await
            .map_err(internal)?;
        Ok(PauseJobResponse::Ok(Json(Paused {
            paused: job.as_str().to_owned(),
        })))
    }

    /// Resumes a job's schedule on every replica.
    #[oai(
        path = "/admin/jobs/:name/resume",
        method = "post",
        operation_id = "resumeJob"
    )]
    async fn resume(
        &self,
        platform: Data<&Platform>,
        auth: BearerAuth,
        /// The job name.
        name: Path<String>,
    ) -> poem::Result<ResumeJobResponse> {
        gate::platform_admin(&auth.0)?;
        let job = job(&name.0)?;
        repo::set_paused(&platform.db, job, false)
            .await
            .map_err(internal)?;
        Ok(ResumeJobResponse::Ok(Json(Resumed {
            resumed: job.as_str().to_owned(),
        })))
    }
}
