-- tamper evidence for audit_log (issue 6): every row carries a sha-256 hash chaining it to the
-- previous row, written at insert time by a trigger, so no writer can forget it or fork it.
--
-- * `seq`: position in the chain, 1, 2, 3, ... without gaps (assigned under a transaction-level
--   advisory lock, so concurrent writers append one after the other and never fork the chain).
-- * `prev_hash`: the previous row's `hash` (32 zero bytes for seq 1).
-- * `hash`: sha256(prev_hash || canonical(row)), canonical(row) being the utf-8 bytes of
--   'audit_log.v1' followed by these fields in this order, each written as
--   '<byte length>:<text>' or '~' for null:
--   seq, id, event_id, user_id, organization_id, action, resource_type, resource_id,
--   ip_address, user_agent, details::text (jsonb's own normalised text), created_at in utc as
--   'YYYY-MM-DDTHH:MM:SS.ffffffZ'. the audit service recomputes the same bytes to verify.
-- * retention removes a prefix of the chain only, in a transaction that first appends a
--   checkpoint row (action 'audit.retention_checkpoint', event_id null, details naming the last
--   removed seq and its hash) and sets `auth.audit_purge_through`; every other update, delete
--   or truncate is still refused (security AUD-09).
-- the advisory lock key 7022629598040908648 is 'audit_ch' in ascii; the service uses the same.

alter table audit_log add column if not exists seq bigint;
alter table audit_log add column if not exists prev_hash bytea;
alter table audit_log add column if not exists hash bytea;

create or replace function audit_log_field(v text) returns text
language sql immutable as $$
  select case when v is null then '~' else octet_length(convert_to(v, 'UTF8'))::text || ':' || v end
$$;

create or replace function audit_log_canonical(r audit_log) returns bytea
language sql stable as $$
  select convert_to(
    'audit_log.v1'
    || audit_log_field(r.seq::text)
    || audit_log_field(r.id::text)
    || audit_log_field(r.event_id::text)
    || audit_log_field(r.user_id::text)
    || audit_log_field(r.organization_id::text)
    || audit_log_field(r.action::text)
    || audit_log_field(r.resource_type::text)
    || audit_log_field(r.resource_id::text)
    || audit_log_field(r.ip_address::text)
    || audit_log_field(r.user_agent)
    || audit_log_field(r.details::text)
    || audit_log_field(to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
    'UTF8')
$$;

create or replace function audit_log_chain() returns trigger
language plpgsql as $$
declare
  head_seq bigint;
  head_hash bytea;
begin
  perform pg_advisory_xact_lock(7022629598040908648);
  select seq, hash into head_seq, head_hash from audit_log order by seq desc limit 1;
  if head_seq is null then
    new.seq := 1;
    new.prev_hash := decode(repeat('00', 32), 'hex');
  else
    new.seq := head_seq + 1;
    new.prev_hash := head_hash;
  end if;
  new.hash := sha256(new.prev_hash || audit_log_canonical(new));
  return new;
end $$;

-- deletes are allowed for a retention purge only: rows up to the seq the purging transaction
-- names in `auth.audit_purge_through` (after it appended its checkpoint row).
create or replace function audit_log_reject_change() returns trigger
language plpgsql as $$
declare
  purge_through bigint;
begin
  if tg_op = 'DELETE' and tg_level = 'ROW' then
    purge_through := nullif(current_setting('auth.audit_purge_through', true), '')::bigint;
    if purge_through is not null and old.seq is not null and old.seq <= purge_through then
      return old;
    end if;
  end if;
  raise exception 'audit_log is append-only (% refused)', tg_op
    using errcode = 'insufficient_privilege';
end $$;

-- chain the rows written before this migration (e.g. by the original server), oldest first.
do $$
declare
  r audit_log;
  prev bytea := decode(repeat('00', 32), 'hex');
  n bigint := 0;
begin
  lock table audit_log in exclusive mode;
  if exists (select 1 from audit_log where seq is null) then
    alter table audit_log disable trigger audit_log_no_update_delete;
    for r in select * from audit_log order by created_at, id loop
      n := n + 1;
      r.seq := n;
      r.prev_hash := prev;
      r.hash := sha256(prev || audit_log_canonical(r));
      update audit_log set seq = r.seq, prev_hash = r.prev_hash, hash = r.hash where id = r.id;
      prev := r.hash;
    end loop;
    alter table audit_log enable trigger audit_log_no_update_delete;
  end if;
end $$;

alter table audit_log alter column seq set not null;
alter table audit_log alter column prev_hash set not null;
alter table audit_log alter column hash set not null;
create unique index if not exists audit_log_seq_key on audit_log (seq);

drop trigger if exists audit_log_chain on audit_log;
create trigger audit_log_chain
  before insert on audit_log
  for each row execute function audit_log_chain();
