-- app webhooks (`user.registered`, contract §5.9) are delivered from the `jobs` table: one row
-- per delivery, named `webhook:<delivery id>`, inserted in the same transaction as the
-- registration, so a delivery is queued exactly when the user exists. the cleanup scheduler
-- only ever reads the rows of its own job names, and these rows never carry one.
--   payload     what to send: url, event name and the json body (a snapshot taken at commit)
--   attempts    attempts started so far (bounded by the contract's three)
--   next_run_at when the next attempt is due; null once delivered or given up
alter table jobs add column if not exists payload jsonb;
alter table jobs add column if not exists attempts integer not null default 0;
create index if not exists jobs_webhook_due_idx on jobs (next_run_at) where payload is not null;
