-- transactional outbox: a service writes its event rows in the same transaction as the change
-- they describe; a relay publishes them to nats and stamps `published_at`.
create table if not exists outbox (
  id uuid primary key,
  topic text not null,          -- nats subject suffix, e.g. 'audit.login.success' or 'token_version'
  payload jsonb not null,
  created_at timestamptz not null default now(),
  published_at timestamptz
);
create index if not exists outbox_unpublished_idx on outbox (created_at) where published_at is null;
