-- seed: the eight system roles, the `core` permission catalogue (54 codes) and the grants
-- between them. idempotent: every insert skips rows that exist, so an adopted database keeps
-- its own names, descriptions and grants and only gains what is missing. ids are random per
-- database: always look roles and permissions up by code.

insert into roles (code, name, description, type, level, is_org_role, organization_id)
values
  ('system_admin', 'System Admin', 'Platform-level administrator with full access to every resource.', 'system', 0, false, null),
  ('super_admin', 'Super Admin', 'Cross-organization administrator; cannot register apps or services.', 'system', 5, false, null),
  ('org_admin', 'Organization Admin', 'Full administrator inside one organization.', 'system', 10, true, null),
  ('org_manager', 'Organization Manager', 'Manages the users of an organization and their roles.', 'system', 20, true, null),
  ('seller', 'Seller', 'Creates and manages auctions and items.', 'system', 50, true, null),
  ('buyer', 'Buyer', 'Views auctions and places bids.', 'system', 60, true, null),
  ('org_member', 'Organization Member', 'Baseline membership: may read the organization and its member list.', 'system', 80, true, null),
  ('base_user', 'Base User', 'Default role of every registered user.', 'system', 100, false, null)
on conflict (code) where organization_id is null and deleted_at is null do nothing;

-- org_assignable rule (as the original's 009): true exactly for the six org self-service codes
-- `org:read`, `org:update` and `org:members:*`, which an org admin may put into a custom org
-- role; false for everything else, including `org:roles:*`, so a custom role can never hand
-- out the power to edit roles.
insert into permissions (code, name, description, resource, action, category, service, org_assignable)
values
  ('users:create', 'Create Users', 'Create user accounts.', 'users', 'create', 'User Management', 'core', false),
  ('users:read', 'View Users', 'View user accounts.', 'users', 'read', 'User Management', 'core', false),
  ('users:update', 'Update Users', 'Update user accounts.', 'users', 'update', 'User Management', 'core', false),
  ('users:delete', 'Delete Users', 'Delete user accounts.', 'users', 'delete', 'User Management', 'core', false),
  ('users:list', 'List Users', 'List user accounts.', 'users', 'list', 'User Management', 'core', false),
  ('users:manage', 'Manage Users', 'Fully manage user accounts.', 'users', 'manage', 'User Management', 'core', false),
  ('users:invite', 'Invite Users', 'Invite new users.', 'users', 'invite', 'User Management', 'core', false),
  ('organizations:create', 'Create Organizations', 'Create organizations.', 'organizations', 'create', 'Organization Management', 'core', false),
  ('organizations:read', 'View Organizations', 'View organizations.', 'organizations', 'read', 'Organization Management', 'core', false),
  ('organizations:update', 'Update Organizations', 'Update organizations.', 'organizations', 'update', 'Organization Management', 'core', false),
  ('organizations:delete', 'Delete Organizations', 'Delete organizations.', 'organizations', 'delete', 'Organization Management', 'core', false),
  ('organizations:list', 'List Organizations', 'List organizations.', 'organizations', 'list', 'Organization Management', 'core', false),
  ('organizations:manage', 'Manage Organizations', 'Fully manage organizations.', 'organizations', 'manage', 'Organization Management', 'core', false),
  ('roles:create', 'Create Roles', 'Create roles.', 'roles', 'create', 'Role Management', 'core', false),
  ('roles:read', 'View Roles', 'View roles.', 'roles', 'read', 'Role Management', 'core', false),
  ('roles:update', 'Update Roles', 'Update roles.', 'roles', 'update', 'Role Management', 'core', false),
  ('roles:delete', 'Delete Roles', 'Delete roles.', 'roles', 'delete', 'Role Management', 'core', false),
  ('roles:list', 'List Roles', 'List roles.', 'roles', 'list', 'Role Management', 'core', false),
  ('roles:assign', 'Assign Roles', 'Assign roles to users.', 'roles', 'assign', 'Role Management', 'core', false),
  ('permissions:read', 'View Permissions', 'View permissions.', 'permissions', 'read', 'Permission Management', 'core', false),
  ('permissions:list', 'List Permissions', 'List permissions.', 'permissions', 'list', 'Permission Management', 'core', false),
  ('auctions:create', 'Create Auctions', 'Create auctions.', 'auctions', 'create', 'Auction Management', 'core', false),
  ('auctions:read', 'View Auctions', 'View auctions.', 'auctions', 'read', 'Auction Management', 'core', false),
  ('auctions:update', 'Update Auctions', 'Update auctions.', 'auctions', 'update', 'Auction Management', 'core', false),
  ('auctions:delete', 'Delete Auctions', 'Delete auctions.', 'auctions', 'delete', 'Auction Management', 'core', false),
  ('auctions:list', 'List Auctions', 'List auctions.', 'auctions', 'list', 'Auction Management', 'core', false),
  ('auctions:manage', 'Manage Auctions', 'Fully manage auctions.', 'auctions', 'manage', 'Auction Management', 'core', false),
  ('auctions:approve', 'Approve Auctions', 'Approve auctions for publication.', 'auctions', 'approve', 'Auction Management', 'core', false),
  ('bids:create', 'Place Bids', 'Place bids on auctions.', 'bids', 'create', 'Bidding', 'core', false),
  ('bids:read', 'View Bids', 'View bids.', 'bids', 'read', 'Bidding', 'core', false),
  ('bids:list', 'List Bids', 'List bids.', 'bids', 'list', 'Bidding', 'core', false),
  ('items:create', 'Create Items', 'Create items.', 'items', 'create', 'Item Management', 'core', false),
  ('items:read', 'View Items', 'View items.', 'items', 'read', 'Item Management', 'core', false),
  ('items:update', 'Update Items', 'Update items.', 'items', 'update', 'Item Management', 'core', false),
  ('items:delete', 'Delete Items', 'Delete items.', 'items', 'delete', 'Item Management', 'core', false),
  ('items:list', 'List Items', 'List items.', 'items', 'list', 'Item Management', 'core', false),
  ('invitations:create', 'Create Invitations', 'Create invitations.', 'invitations', 'create', 'Invitation Management', 'core', false),
  ('invitations:read', 'View Invitations', 'View invitations.', 'invitations', 'read', 'Invitation Management', 'core', false),
  ('invitations:delete', 'Delete Invitations', 'Delete invitations.', 'invitations', 'delete', 'Invitation Management', 'core', false),
  ('invitations:list', 'List Invitations', 'List invitations.', 'invitations', 'list', 'Invitation Management', 'core', false),
  ('settings:read', 'View Settings', 'View settings.', 'settings', 'read', 'Settings', 'core', false),
  ('settings:update', 'Update Settings', 'Update settings.', 'settings', 'update', 'Settings', 'core', false),
  ('reports:read', 'View Reports', 'View reports.', 'reports', 'read', 'Reporting', 'core', false),
  ('reports:list', 'List Reports', 'List reports.', 'reports', 'list', 'Reporting', 'core', false),
  ('org:read', 'View Own Org', 'View the organization the token is scoped to.', 'org', 'read', 'Org Self-Service', 'core', true),
  ('org:update', 'Update Own Org', 'Update the organization the token is scoped to.', 'org', 'update', 'Org Self-Service', 'core', true),
  ('org:members:read', 'List Own Members', 'List the members of the organization.', 'org', 'read', 'Org Self-Service', 'core', true),
  ('org:members:invite', 'Invite Member', 'Invite people into the organization.', 'org', 'create', 'Org Self-Service', 'core', true),
  ('org:members:remove', 'Remove Member', 'Remove members from the organization.', 'org', 'delete', 'Org Self-Service', 'core', true),
  ('org:members:update', 'Update Member', 'Change the roles and status of organization members.', 'org', 'update', 'Org Self-Service', 'core', true),
  ('org:roles:read', 'List org roles', 'List the roles available in the organization.', 'org_roles', 'read', 'organization', 'core', false),
  ('org:roles:create', 'Create custom role', 'Create a custom role in the organization.', 'org_roles', 'create', 'organization', 'core', false),
  ('org:roles:update', 'Update custom role', 'Update a custom role of the organization.', 'org_roles', 'update', 'organization', 'core', false),
  ('org:roles:delete', 'Delete custom role', 'Delete a custom role of the organization.', 'org_roles', 'delete', 'organization', 'core', false)
on conflict (code) do nothing;

-- grants: the original's 168 rows (its seeds 002, 008, 009), plus two additions:
-- * system_admin holds every core permission, the ten `org:*` codes included (the original
--   left those to a code-level bypass; contract 6.1 says it holds every permission);
-- * org_manager, which "manages members and their roles in the org", gets the org
--   self-service codes it needs for that: org:read, org:members:* and org:roles:read.
-- nothing is ever revoked here (an adopted database may have grants of its own, and a seed
-- that removed rows would make fresh and adopted databases differ).
with grants (role_code, perm_codes) as (
  values
  ('system_admin', array[
    'users:create', 'users:read', 'users:update', 'users:delete', 'users:list', 'users:manage',
    'users:invite', 'organizations:create', 'organizations:read', 'organizations:update',
    'organizations:delete', 'organizations:list', 'organizations:manage', 'roles:create',
    'roles:read', 'roles:update', 'roles:delete', 'roles:list', 'roles:assign',
    'permissions:read', 'permissions:list', 'auctions:create', 'auctions:read',
    'auctions:update', 'auctions:delete', 'auctions:list', 'auctions:manage',
    'auctions:approve', 'bids:create', 'bids:read', 'bids:list', 'items:create', 'items:read',
    'items:update', 'items:delete', 'items:list', 'invitations:create', 'invitations:read',
    'invitations:delete', 'invitations:list', 'settings:read', 'settings:update',
    'reports:read', 'reports:list', 'org:read', 'org:update', 'org:members:read',
    'org:members:invite', 'org:members:remove', 'org:members:update', 'org:roles:read',
    'org:roles:create', 'org:roles:update', 'org:roles:delete']),
  ('super_admin', array[
    'org:read', 'org:update', 'org:members:read', 'org:members:invite', 'org:members:remove',
    'org:members:update', 'organizations:create', 'organizations:read',
    'organizations:update', 'organizations:list', 'users:create', 'users:read',
    'users:update', 'users:list', 'users:invite', 'roles:read', 'roles:list', 'roles:assign',
    'permissions:read', 'permissions:list', 'invitations:create', 'invitations:read',
    'invitations:delete', 'settings:read', 'reports:read', 'reports:list', 'auctions:read',
    'auctions:list', 'bids:read', 'bids:list', 'items:read', 'items:list']),
  ('org_admin', array[
    'users:read', 'users:update', 'users:list', 'users:invite', 'organizations:read',
    'organizations:update', 'roles:create', 'roles:read', 'roles:update', 'roles:delete',
    'roles:list', 'roles:assign', 'permissions:read', 'permissions:list', 'auctions:create',
    'auctions:read', 'auctions:update', 'auctions:delete', 'auctions:list',
    'auctions:manage', 'auctions:approve', 'bids:read', 'bids:list', 'items:create',
    'items:read', 'items:update', 'items:delete', 'items:list', 'invitations:create',
    'invitations:read', 'invitations:delete', 'invitations:list', 'settings:read',
    'settings:update', 'reports:read', 'reports:list', 'org:read', 'org:update',
    'org:members:read', 'org:members:invite', 'org:members:remove', 'org:members:update',
    'org:roles:read', 'org:roles:create', 'org:roles:update', 'org:roles:delete']),
  ('org_manager', array[
    'users:read', 'users:update', 'users:list', 'users:invite', 'organizations:read',
    'roles:read', 'roles:list', 'roles:assign', 'permissions:read', 'permissions:list',
    'auctions:read', 'auctions:list', 'bids:read', 'bids:list', 'items:read', 'items:list',
    'invitations:create', 'invitations:read', 'invitations:delete', 'invitations:list',
    'reports:read', 'reports:list',
    'org:read', 'org:members:read', 'org:members:invite', 'org:members:remove',
    'org:members:update', 'org:roles:read']),
  ('seller', array[
    'auctions:create', 'auctions:read', 'auctions:update', 'auctions:list', 'items:create',
    'items:read', 'items:update', 'items:delete', 'items:list', 'bids:read', 'bids:list']),
  ('buyer', array[
    'auctions:read', 'auctions:list', 'items:read', 'items:list', 'bids:create', 'bids:read',
    'bids:list']),
  ('org_member', array['org:read', 'org:members:read']),
  ('base_user', array['auctions:read', 'auctions:list', 'items:read', 'items:list'])
)
insert into role_permissions (role_id, permission_id)
select r.id, p.id
from grants g
cross join lateral unnest(g.perm_codes) as c (code)
join roles r on r.code = g.role_code and r.organization_id is null and r.deleted_at is null
join permissions p on p.code = c.code
on conflict do nothing;
