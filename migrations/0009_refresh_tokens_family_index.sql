-- `revoked` is nullable in the original schema, so queries test `revoked is not true`, which the
-- original's partial index (`where revoked = false`) cannot serve. A plain index on family_id
-- serves family revocation and reuse detection whatever the flag holds.
create index if not exists refresh_tokens_family_id_idx on refresh_tokens (family_id);
