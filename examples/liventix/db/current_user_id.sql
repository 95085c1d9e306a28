-- The person the caller acts for, set per transaction like app.org_id.
CREATE FUNCTION public.current_user_id() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT nullif(pg_catalog.current_setting('app.user_id', true), '')::bigint $$;
