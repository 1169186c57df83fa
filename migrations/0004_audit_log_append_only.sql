-- audit rows arrive asynchronously (outbox -> nats -> audit consumer), possibly after the user
-- or organization they name is gone, and they must outlive hard deletes. so:
-- * `event_id`: the outbox event id, for idempotent consumption
--   (`insert ... on conflict (event_id) do nothing`). null on rows written by the original.
-- * no foreign keys: an insert naming a deleted user must not fail, and a user's hard delete
--   must neither be blocked by nor rewrite audit rows (the original's 011 nulled `user_id`).
-- * append-only: update, delete and truncate raise insufficient_privilege (security AUD-09).
alter table audit_log add column if not exists event_id uuid;

do $$
begin
  if not exists (
    select 1 from pg_constraint
    where conrelid = 'audit_log'::regclass and conname = 'audit_log_event_id_key'
  ) then
    alter table audit_log add constraint audit_log_event_id_key unique (event_id);
  end if;
end $$;

alter table audit_log drop constraint if exists audit_log_user_id_fkey;
alter table audit_log drop constraint if exists audit_log_organization_id_fkey;

create or replace function audit_log_reject_change() returns trigger
language plpgsql as $$
begin
  raise exception 'audit_log is append-only (% refused)', tg_op
    using errcode = 'insufficient_privilege';
end $$;

drop trigger if exists audit_log_no_update_delete on audit_log;
create trigger audit_log_no_update_delete
  before update or delete on audit_log
  for each row execute function audit_log_reject_change();

drop trigger if exists audit_log_no_truncate on audit_log;
create trigger audit_log_no_truncate
  before truncate on audit_log
  for each statement execute function audit_log_reject_change();
