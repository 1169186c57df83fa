-- the last TOTP time step accepted for a user (RFC 6238 §5.2: a code is accepted once).
-- a code is taken only for a step above this value, with a compare-and-set update, so a
-- replayed code, or an older one still inside the ±1 step window, is refused (MFA-03..05).
alter table users add column if not exists two_factor_last_step bigint;
