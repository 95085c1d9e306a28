-- The organisation the caller acts for, set per transaction with
-- strata::rls::set_local(&mut tx, "app.org_id", …). NULL when unset, on a
-- pooled connection too (where an earlier transaction leaves it '').
CREATE FUNCTION public.current_org_id() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT nullif(pg_catalog.current_setting('app.org_id', true), '')::bigint $$;
