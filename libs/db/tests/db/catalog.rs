//! Reading back a database's schema, to compare two databases.

use sqlx::PgPool;

/// Columns, constraints and indexes of the `public` schema, one line each, sorted.
pub async fn snapshot(pool: &PgPool) -> Vec<String> {
    let columns: Vec<String> = sqlx::query_scalar(
        "select format('column %s.%s %s(%s) null=%s default=%s', table_name, column_name, \
                data_type, character_maximum_length, is_nullable, column_default) \
         from information_schema.columns where table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let constraints: Vec<String> = sqlx::query_scalar(
        "select format('constraint %s.%s %s', conrelid::regclass, conname, \
                pg_get_constraintdef(oid)) \
         from pg_constraint where connamespace = 'public'::regnamespace",
    )
    .fetch_all(pool)
    .await
    .expect("constraints");
    let indexes: Vec<String> = sqlx::query_scalar(
        "select format('index %s %s', indexname, indexdef) from pg_indexes \
         where schemaname = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    let triggers: Vec<String> = sqlx::query_scalar(
        "select format('trigger %s.%s', tgrelid::regclass, tgname) from pg_trigger \
         where not tgisinternal",
    )
    .fetch_all(pool)
    .await
    .expect("triggers");
    let mut all: Vec<String> = [columns, constraints, indexes, triggers].concat();
    all.sort();
    all
}

/// `(name, oid)` of every constraint in `public`, sorted by name.
pub async fn constraint_oids(pool: &PgPool) -> Vec<(String, i64)> {
    sqlx::query_as(
        "select conname::text, oid::int8 from pg_constraint \
         where connamespace = 'public'::regnamespace order by 1",
    )
    .fetch_all(pool)
    .await
    .expect("constraint oids")
}

/// Number of rows in `_sqlx_migrations`.
pub async fn applied_migrations(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(pool)
        .await
        .expect("_sqlx_migrations")
}
