-- the original go server's schema (its migrations 001-020), final state, column by column as
-- shared/contract/SCHEMA.md describes it.
--
-- written idempotently so that a database created by the original server is adopted in place:
-- * tables: `create table if not exists` with their final columns and primary key;
-- * columns that the original added in later migrations: `add column if not exists`, so a
--   database stopped part-way through the original history is completed too;
-- * named constraints: added only when no constraint of that name exists; foreign keys are
--   re-created when their on-delete action differs (the original's 011 changed some);
-- * indexes: `create index if not exists` under the original names.
-- nothing here deletes rows or drops a column.

create extension if not exists "uuid-ossp";

-- helpers living in this session's temporary schema only (dropped at the end of the file)
create or replace function pg_temp.add_constraint(tbl text, cname text, def text)
returns void language plpgsql as $$
begin
  if not exists (
    select 1 from pg_constraint where conrelid = tbl::regclass and conname = cname
  ) then
    execute format('alter table %I add constraint %I %s', tbl, cname, def);
  end if;
end $$;

create or replace function pg_temp.ensure_fk(tbl text, cname text, def text)
returns void language plpgsql as $$
declare
  existing text;
begin
  select pg_get_constraintdef(oid) into existing
    from pg_constraint where conrelid = tbl::regclass and conname = cname;
  if existing is null then
    execute format('alter table %I add constraint %I %s', tbl, cname, def);
  elsif lower(existing) <> lower(def) then
    execute format('alter table %I drop constraint %I', tbl, cname);
    execute format('alter table %I add constraint %I %s', tbl, cname, def);
  end if;
end $$;

-- ---------------------------------------------------------------------------------------------
-- the original's own migration tracker. kept so the original binary could run against this
-- database again (it would find its twenty files applied); we never read it.
create table if not exists _migrations (
  id serial primary key,
  filename varchar(255) not null unique,
  applied_at timestamptz default now()
);

insert into _migrations (filename)
values ('001_initial_schema.up.sql'),
       ('002_seed_data.up.sql'),
       ('003_demo_users.up.sql'),
       ('004_demo_organizations.up.sql'),
       ('005_service_scoped_permissions_and_sysadmin_rename.up.sql'),
       ('006_refresh_token_family.up.sql'),
       ('007_apps.up.sql'),
       ('008_org_perms_and_super_admin.up.sql'),
       ('009_org_assignable_and_org_roles.up.sql'),
       ('010_two_factor_confirmed_at.up.sql'),
       ('011_audit_preserving_fks_for_hard_delete.up.sql'),
       ('012_m2m_clients.up.sql'),
       ('013_app_registration_policy.up.sql'),
       ('014_magic_links.up.sql'),
       ('015_apps_frontend_url.up.sql'),
       ('016_role_names_admin_short_form.up.sql'),
       ('017_user_namespaces.up.sql'),
       ('018_multi_registration_namespaces.up.sql'),
       ('019_app_webhooks.up.sql'),
       ('020_app_default_role_linked_apps.up.sql')
on conflict (filename) do nothing;

-- ---------------------------------------------------------------------------------------------
-- tables

create table if not exists users (
  id uuid not null default uuid_generate_v4() primary key,
  email varchar(255) not null,
  email_verified boolean default false,
  phone varchar(50),
  phone_verified boolean default false,
  first_name varchar(100) not null,
  last_name varchar(100) not null,
  display_name varchar(200),
  avatar_url text,
  status varchar(20) not null default 'pending',
  password_hash text,
  auth_provider varchar(50) not null default 'local',
  provider_user_id varchar(255),
  two_factor_enabled boolean default false,
  two_factor_secret text,
  failed_login_attempts integer default 0,
  locked_until timestamptz,
  last_password_change timestamptz,
  last_login_at timestamptz,
  password_reset_at timestamptz,
  metadata jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  two_factor_confirmed_at timestamptz,
  namespace varchar(100) not null default 'default'
);
alter table users add column if not exists two_factor_confirmed_at timestamptz;
alter table users add column if not exists namespace varchar(100) not null default 'default';

create table if not exists user_auth_providers (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  provider varchar(50) not null,
  provider_user_id varchar(255) not null,
  access_token text,
  refresh_token text,
  token_expiry timestamptz,
  provider_data jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists user_namespaces (
  user_id uuid not null,
  namespace varchar(100) not null,
  created_at timestamptz not null default now(),
  primary key (user_id, namespace)
);

create table if not exists organizations (
  id uuid not null default uuid_generate_v4() primary key,
  name varchar(255) not null,
  slug varchar(255) not null,
  description text,
  logo_url text,
  website varchar(500),
  status varchar(20) not null default 'active',
  contact_email varchar(255),
  contact_phone varchar(50),
  address text,
  city varchar(100),
  state varchar(100),
  country varchar(100),
  postal_code varchar(20),
  owner_id uuid not null,
  sso_enabled boolean default false,
  sso_provider varchar(50),
  sso_config jsonb,
  plan varchar(50) default 'free',
  plan_expiry timestamptz,
  settings jsonb,
  metadata jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);

create table if not exists organization_members (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  organization_id uuid not null,
  status varchar(20) not null default 'active',
  joined_at timestamptz not null default now(),
  invited_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);

create table if not exists roles (
  id uuid not null default uuid_generate_v4() primary key,
  code varchar(100) not null,
  name varchar(200) not null,
  description text,
  type varchar(20) not null default 'custom',
  level integer default 100,
  is_org_role boolean default false,
  organization_id uuid,
  metadata jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);

create table if not exists organization_member_roles (
  id uuid not null default uuid_generate_v4() primary key,
  membership_id uuid not null,
  role_id uuid not null,
  assigned_by uuid,
  assigned_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table organization_member_roles alter column assigned_by drop not null;

create table if not exists permissions (
  id uuid not null default uuid_generate_v4() primary key,
  code varchar(100) not null,
  name varchar(200) not null,
  description text,
  resource varchar(100) not null,
  action varchar(50) not null,
  category varchar(100),
  metadata jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  service varchar(100) not null default 'core',
  org_assignable boolean not null default false
);
alter table permissions add column if not exists service varchar(100) not null default 'core';
alter table permissions add column if not exists org_assignable boolean not null default false;

create table if not exists role_permissions (
  role_id uuid not null,
  permission_id uuid not null,
  primary key (role_id, permission_id)
);

create table if not exists user_base_roles (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  role_id uuid not null,
  assigned_at timestamptz not null default now(),
  assigned_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists invitations (
  id uuid not null default uuid_generate_v4() primary key,
  organization_id uuid not null,
  email varchar(255) not null,
  code varchar(20) not null,
  token text not null,
  invited_by uuid,
  expires_at timestamptz not null,
  status varchar(20) not null default 'pending',
  accepted_at timestamptz,
  accepted_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table invitations alter column invited_by drop not null;

create table if not exists invitation_roles (
  invitation_id uuid not null,
  role_id uuid not null,
  primary key (invitation_id, role_id)
);

create table if not exists apps (
  id uuid not null default uuid_generate_v4() primary key,
  code varchar(100) not null,
  name varchar(200) not null,
  description text,
  allowed_redirect_urls text[] not null default '{}',
  service_codes text[] not null default '{}',
  auto_grant_on_signup boolean not null default false,
  status varchar(20) not null default 'active',
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  allowed_email_domains text[] not null default '{}',
  allowed_auth_methods text[] not null default '{}',
  default_organization_id uuid,
  frontend_url varchar(500),
  registration_namespace varchar(100),
  read_namespaces text[] not null default '{}',
  registration_namespaces text[] not null default '{}',
  webhooks jsonb not null default '[]',
  default_role_code text,
  linked_app_codes text[] not null default '{}'
);
alter table apps add column if not exists allowed_email_domains text[] not null default '{}';
alter table apps add column if not exists allowed_auth_methods text[] not null default '{}';
alter table apps add column if not exists default_organization_id uuid;
alter table apps add column if not exists frontend_url varchar(500);
alter table apps add column if not exists registration_namespace varchar(100);
alter table apps add column if not exists read_namespaces text[] not null default '{}';
alter table apps add column if not exists registration_namespaces text[] not null default '{}';
alter table apps add column if not exists webhooks jsonb not null default '[]';
alter table apps add column if not exists default_role_code text;
alter table apps add column if not exists linked_app_codes text[] not null default '{}';

create table if not exists user_apps (
  user_id uuid not null,
  app_id uuid not null,
  granted_at timestamptz not null default now(),
  granted_by uuid,
  status varchar(20) not null default 'active',
  primary key (user_id, app_id)
);

create table if not exists refresh_tokens (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  organization_id uuid,
  token_hash varchar(64) not null,
  device_info text,
  ip_address varchar(45),
  user_agent text,
  expires_at timestamptz not null,
  last_used_at timestamptz,
  revoked boolean default false,
  revoked_at timestamptz,
  revoked_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  family_id uuid not null,
  parent_id uuid,
  app_id uuid
);
-- pre-006 databases: every existing token is the root of its own family
alter table refresh_tokens add column if not exists family_id uuid;
update refresh_tokens set family_id = id where family_id is null;
alter table refresh_tokens alter column family_id set not null;
alter table refresh_tokens add column if not exists parent_id uuid;
alter table refresh_tokens add column if not exists app_id uuid;

create table if not exists sessions (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  organization_id uuid,
  refresh_token_id uuid not null,
  device_info text,
  ip_address varchar(45),
  user_agent text,
  location text,
  last_activity_at timestamptz not null default now(),
  expires_at timestamptz not null,
  terminated boolean default false,
  terminated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  app_id uuid
);
alter table sessions add column if not exists app_id uuid;

create table if not exists password_reset_tokens (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  token_hash varchar(64) not null,
  expires_at timestamptz not null,
  used boolean default false,
  used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists email_verification_tokens (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  email varchar(255) not null,
  token_hash varchar(64) not null,
  expires_at timestamptz not null,
  used boolean default false,
  used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists magic_links (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid not null,
  email varchar(320) not null,
  token_hash varchar(255) not null,
  app_code varchar(100),
  expires_at timestamptz not null,
  consumed_at timestamptz,
  created_at timestamptz default now(),
  ip_address varchar(45),
  user_agent text
);

create table if not exists m2m_clients (
  id uuid not null default gen_random_uuid() primary key,
  client_id text not null,
  client_secret_hash text not null,
  name text not null,
  description text,
  scopes text[] not null default '{}',
  allowed_audiences text[] not null default '{}',
  status text not null default 'active',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_by uuid
);

create table if not exists audit_log (
  id uuid not null default uuid_generate_v4() primary key,
  user_id uuid,
  organization_id uuid,
  action varchar(100) not null,
  resource_type varchar(100),
  resource_id uuid,
  ip_address varchar(45),
  user_agent text,
  details jsonb,
  created_at timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------
-- unique and check constraints (names as the original's)

select pg_temp.add_constraint('user_auth_providers', 'user_auth_providers_unique', 'unique (user_id, provider)');
select pg_temp.add_constraint('user_auth_providers', 'provider_user_unique', 'unique (provider, provider_user_id)');
select pg_temp.add_constraint('organization_member_roles', 'org_member_role_unique', 'unique (membership_id, role_id)');
select pg_temp.add_constraint('permissions', 'permissions_code_key', 'unique (code)');
select pg_temp.add_constraint('user_base_roles', 'user_base_role_unique', 'unique (user_id, role_id)');
select pg_temp.add_constraint('invitations', 'invitations_code_key', 'unique (code)');
select pg_temp.add_constraint('invitations', 'invitations_token_key', 'unique (token)');
select pg_temp.add_constraint('apps', 'apps_code_key', 'unique (code)');
select pg_temp.add_constraint('refresh_tokens', 'refresh_tokens_token_hash_key', 'unique (token_hash)');
select pg_temp.add_constraint('password_reset_tokens', 'password_reset_tokens_token_hash_key', 'unique (token_hash)');
select pg_temp.add_constraint('email_verification_tokens', 'email_verification_tokens_token_hash_key', 'unique (token_hash)');
select pg_temp.add_constraint('m2m_clients', 'm2m_clients_client_id_key', 'unique (client_id)');
select pg_temp.add_constraint('m2m_clients', 'm2m_clients_status_check',
  $c$check (status = any (array['active'::text, 'disabled'::text]))$c$);

-- ---------------------------------------------------------------------------------------------
-- foreign keys (all 38; on-delete actions as after the original's 011)

select pg_temp.ensure_fk('user_auth_providers', 'user_auth_providers_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('user_namespaces', 'user_namespaces_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('organizations', 'organizations_owner_id_fkey', 'foreign key (owner_id) references users(id)');
select pg_temp.ensure_fk('organization_members', 'organization_members_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('organization_members', 'organization_members_organization_id_fkey', 'foreign key (organization_id) references organizations(id) on delete cascade');
select pg_temp.ensure_fk('organization_members', 'organization_members_invited_by_fkey', 'foreign key (invited_by) references users(id) on delete set null');
select pg_temp.ensure_fk('organization_member_roles', 'organization_member_roles_membership_id_fkey', 'foreign key (membership_id) references organization_members(id) on delete cascade');
select pg_temp.ensure_fk('organization_member_roles', 'organization_member_roles_role_id_fkey', 'foreign key (role_id) references roles(id) on delete cascade');
select pg_temp.ensure_fk('organization_member_roles', 'organization_member_roles_assigned_by_fkey', 'foreign key (assigned_by) references users(id) on delete set null');
select pg_temp.ensure_fk('roles', 'roles_organization_id_fkey', 'foreign key (organization_id) references organizations(id) on delete cascade');
select pg_temp.ensure_fk('role_permissions', 'role_permissions_role_id_fkey', 'foreign key (role_id) references roles(id) on delete cascade');
select pg_temp.ensure_fk('role_permissions', 'role_permissions_permission_id_fkey', 'foreign key (permission_id) references permissions(id) on delete cascade');
select pg_temp.ensure_fk('user_base_roles', 'user_base_roles_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('user_base_roles', 'user_base_roles_role_id_fkey', 'foreign key (role_id) references roles(id) on delete cascade');
select pg_temp.ensure_fk('user_base_roles', 'user_base_roles_assigned_by_fkey', 'foreign key (assigned_by) references users(id) on delete set null');
select pg_temp.ensure_fk('invitations', 'invitations_organization_id_fkey', 'foreign key (organization_id) references organizations(id) on delete cascade');
select pg_temp.ensure_fk('invitations', 'invitations_invited_by_fkey', 'foreign key (invited_by) references users(id) on delete set null');
select pg_temp.ensure_fk('invitations', 'invitations_accepted_by_fkey', 'foreign key (accepted_by) references users(id) on delete set null');
select pg_temp.ensure_fk('invitation_roles', 'invitation_roles_invitation_id_fkey', 'foreign key (invitation_id) references invitations(id) on delete cascade');
select pg_temp.ensure_fk('invitation_roles', 'invitation_roles_role_id_fkey', 'foreign key (role_id) references roles(id) on delete cascade');
select pg_temp.ensure_fk('apps', 'apps_default_organization_id_fkey', 'foreign key (default_organization_id) references organizations(id) on delete set null');
select pg_temp.ensure_fk('user_apps', 'user_apps_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('user_apps', 'user_apps_app_id_fkey', 'foreign key (app_id) references apps(id) on delete cascade');
select pg_temp.ensure_fk('user_apps', 'user_apps_granted_by_fkey', 'foreign key (granted_by) references users(id) on delete set null');
select pg_temp.ensure_fk('refresh_tokens', 'refresh_tokens_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('refresh_tokens', 'refresh_tokens_organization_id_fkey', 'foreign key (organization_id) references organizations(id) on delete cascade');
select pg_temp.ensure_fk('refresh_tokens', 'refresh_tokens_parent_id_fkey', 'foreign key (parent_id) references refresh_tokens(id) on delete set null');
select pg_temp.ensure_fk('refresh_tokens', 'refresh_tokens_app_id_fkey', 'foreign key (app_id) references apps(id) on delete set null');
select pg_temp.ensure_fk('sessions', 'sessions_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('sessions', 'sessions_organization_id_fkey', 'foreign key (organization_id) references organizations(id) on delete cascade');
select pg_temp.ensure_fk('sessions', 'sessions_refresh_token_id_fkey', 'foreign key (refresh_token_id) references refresh_tokens(id) on delete cascade');
select pg_temp.ensure_fk('sessions', 'sessions_app_id_fkey', 'foreign key (app_id) references apps(id) on delete set null');
select pg_temp.ensure_fk('password_reset_tokens', 'password_reset_tokens_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('email_verification_tokens', 'email_verification_tokens_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('magic_links', 'magic_links_user_id_fkey', 'foreign key (user_id) references users(id) on delete cascade');
select pg_temp.ensure_fk('m2m_clients', 'm2m_clients_created_by_fkey', 'foreign key (created_by) references users(id) on delete set null');
select pg_temp.ensure_fk('audit_log', 'audit_log_user_id_fkey', 'foreign key (user_id) references users(id) on delete set null');
select pg_temp.ensure_fk('audit_log', 'audit_log_organization_id_fkey', 'foreign key (organization_id) references organizations(id)');

-- ---------------------------------------------------------------------------------------------
-- indexes (names as the original's, redundant ones included)

-- pre-017 databases: email was unique globally; 017 made it unique per namespace
alter table users drop constraint if exists users_email_unique;
drop index if exists users_email_unique;
drop index if exists idx_users_email;
create unique index if not exists users_namespace_email_unique on users (namespace, email) where deleted_at is null;
create index if not exists idx_users_namespace_email on users (namespace, lower((email)::text)) where deleted_at is null;
create index if not exists idx_users_status on users (status) where deleted_at is null;
create index if not exists idx_users_auth_provider on users (auth_provider) where deleted_at is null;

create index if not exists idx_user_auth_providers_user on user_auth_providers (user_id);
create index if not exists idx_user_auth_providers_provider on user_auth_providers (provider, provider_user_id);

create index if not exists idx_user_namespaces_namespace on user_namespaces (namespace);

create unique index if not exists organizations_slug_unique on organizations (slug) where deleted_at is null;
create index if not exists idx_organizations_slug on organizations (slug) where deleted_at is null;
create index if not exists idx_organizations_owner on organizations (owner_id) where deleted_at is null;
create index if not exists idx_organizations_status on organizations (status) where deleted_at is null;

create unique index if not exists org_member_unique on organization_members (user_id, organization_id) where deleted_at is null;
create index if not exists idx_org_members_user on organization_members (user_id) where deleted_at is null;
create index if not exists idx_org_members_org on organization_members (organization_id) where deleted_at is null;
create index if not exists idx_org_members_status on organization_members (status) where deleted_at is null;

create index if not exists idx_org_member_roles_membership on organization_member_roles (membership_id);
create index if not exists idx_org_member_roles_role on organization_member_roles (role_id);

create unique index if not exists roles_code_org_unique on roles (code, organization_id) where deleted_at is null;
create index if not exists idx_roles_code on roles (code) where deleted_at is null;
create index if not exists idx_roles_type on roles (type) where deleted_at is null;
create index if not exists idx_roles_org on roles (organization_id) where deleted_at is null;

create index if not exists idx_permissions_code on permissions (code);
create index if not exists idx_permissions_resource on permissions (resource);
create index if not exists idx_permissions_category on permissions (category);
create index if not exists idx_permissions_service on permissions (service);
create index if not exists idx_permissions_org_assignable on permissions (org_assignable) where org_assignable = true;

create index if not exists idx_role_permissions_role on role_permissions (role_id);
create index if not exists idx_role_permissions_permission on role_permissions (permission_id);

create index if not exists idx_user_base_roles_user on user_base_roles (user_id);

create index if not exists idx_invitations_org on invitations (organization_id);
create index if not exists idx_invitations_email on invitations (lower((email)::text));
create index if not exists idx_invitations_code on invitations (code);
create index if not exists idx_invitations_status on invitations (status);

create index if not exists idx_apps_code on apps (code) where deleted_at is null;
create index if not exists idx_apps_status on apps (status) where deleted_at is null;
create index if not exists idx_apps_default_org on apps (default_organization_id)
  where deleted_at is null and default_organization_id is not null;

create index if not exists idx_user_apps_user on user_apps (user_id) where status = 'active';
create index if not exists idx_user_apps_app on user_apps (app_id) where status = 'active';

create index if not exists idx_refresh_tokens_user on refresh_tokens (user_id);
create index if not exists idx_refresh_tokens_hash on refresh_tokens (token_hash);
create index if not exists idx_refresh_tokens_expires on refresh_tokens (expires_at);
create index if not exists idx_refresh_tokens_family_live on refresh_tokens (family_id) where revoked = false;
create index if not exists idx_refresh_tokens_user_app on refresh_tokens (user_id, app_id) where revoked = false;

create index if not exists idx_sessions_user on sessions (user_id);
create index if not exists idx_sessions_refresh_token on sessions (refresh_token_id);
create index if not exists idx_sessions_active on sessions (user_id) where terminated = false;

create index if not exists idx_password_reset_tokens_user on password_reset_tokens (user_id);
create index if not exists idx_password_reset_tokens_hash on password_reset_tokens (token_hash);

create index if not exists idx_email_verification_tokens_user on email_verification_tokens (user_id);
create index if not exists idx_email_verification_tokens_hash on email_verification_tokens (token_hash);

create unique index if not exists idx_magic_links_token_hash on magic_links (token_hash);
create index if not exists idx_magic_links_email_pending on magic_links (email) where consumed_at is null;
create index if not exists idx_magic_links_user_pending on magic_links (user_id) where consumed_at is null;

create index if not exists idx_m2m_clients_client_id on m2m_clients (client_id) where revoked_at is null;
create index if not exists idx_m2m_clients_created_at on m2m_clients (created_at desc) where revoked_at is null;

create index if not exists idx_audit_log_user on audit_log (user_id);
create index if not exists idx_audit_log_org on audit_log (organization_id);
create index if not exists idx_audit_log_action on audit_log (action);
create index if not exists idx_audit_log_created on audit_log (created_at);

drop function pg_temp.add_constraint(text, text, text);
drop function pg_temp.ensure_fk(text, text, text);
