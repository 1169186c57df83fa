-- timestamps on the tables that had none; defaults fill existing rows, nothing reads them
-- positionally, so adding them is harmless.
alter table role_permissions add column if not exists created_at timestamptz not null default now();
alter table invitation_roles add column if not exists created_at timestamptz not null default now();
alter table user_apps add column if not exists created_at timestamptz not null default now();
alter table user_apps add column if not exists updated_at timestamptz not null default now();
alter table user_namespaces add column if not exists updated_at timestamptz not null default now();
alter table magic_links add column if not exists updated_at timestamptz not null default now();
