-- per-user access-token version (the `tv` claim). postgres is the source of truth; a bump is
-- mirrored to nats (kv bucket `token_versions`) and redis (`auth:user_tv:<uid>`) after commit.
-- the original kept this counter in redis only, so adopted users start at 0.
alter table users add column if not exists token_version bigint not null default 0;
