-- The organisations the caller's person belongs to. It runs with the
-- caller's privileges, so it reads only the memberships the caller may
-- see (its own: the members_self policy), and no policy it meets calls it
-- back.
CREATE FUNCTION public.user_orgs() RETURNS SETOF bigint
LANGUAGE sql STABLE
AS $$ SELECT org_id FROM organizations.members WHERE user_id = public.current_user_id() $$;
