-- Tables the later issues need, created now so that they only add columns later.

-- Access tokens revoked one by one (logout revokes the presented access token by its jti,
-- contract §9.15). Postgres is the durable record; the NATS `revoked_jti` bucket and the
-- Redis blacklist are fast copies. Rows past expires_at are useless and pruned by a job.
create table if not exists revoked_access_tokens (
    jti uuid primary key,
    user_id uuid,
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index if not exists revoked_access_tokens_expires_at_idx on revoked_access_tokens (expires_at);

-- Background jobs (`/admin/jobs*`, contract §2.11): one row per job name, shared by every
-- replica so pause/resume and the last run survive restarts.
create table if not exists jobs (
    name text primary key,
    paused boolean not null default false,
    interval_seconds integer not null default 3600,
    last_started_at timestamptz,
    last_finished_at timestamptz,
    last_status text,
    last_error text,
    last_affected bigint,
    next_run_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

insert into jobs (name) values
    ('cleanup.refresh_tokens'),
    ('cleanup.sessions'),
    ('cleanup.password_reset_tokens'),
    ('cleanup.email_verification_tokens')
on conflict (name) do nothing;
