-- uniqueness the original enforced only in application code.
--
-- e-mail: unique per (namespace, lower(email)) among live users. the original stores e-mails
-- lower-cased and compares with lower() but its unique index is on the raw value; this one also
-- refuses a mixed-case twin written by any other path. conflicts name
-- `users_namespace_email_ci_unique` (or the original's `users_namespace_email_unique`).
create unique index if not exists users_namespace_email_ci_unique
  on users (namespace, lower((email)::text)) where deleted_at is null;

-- system role codes: `roles_code_org_unique` treats null organization ids as distinct, so it does
-- not stop two live system roles sharing a code, yet every reader looks system roles up by code.
create unique index if not exists roles_system_code_unique
  on roles (code) where organization_id is null and deleted_at is null;
