-- strata migration 0002_add_orders_updated_at_and_3_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. functions
SET LOCAL check_function_bodies = off;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- 4. columns, functions
ALTER TABLE "shop"."orders" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;
SET LOCAL check_function_bodies = off;
CREATE FUNCTION shop.total(since timestamptz DEFAULT '-infinity') RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT coalesce(sum(total_cents), 0) FROM shop.orders WHERE updated_at >= since $$;

-- 7. triggers
CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders
FOR EACH ROW EXECUTE FUNCTION shop.touch();

-- 8. functions
SET LOCAL check_function_bodies = on;
DO $strata$ DECLARE f regprocedure := '"shop"."total"(timestamp with time zone)'::regprocedure; v regproc; BEGIN
  SELECT l.lanvalidator INTO v FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE p.oid = f;
  IF v <> 0 THEN EXECUTE format('SELECT %s(%s)', v, f::oid); END IF;
END $strata$;
SET LOCAL check_function_bodies = on;
DO $strata$ DECLARE f regprocedure := '"shop"."touch"()'::regprocedure; v regproc; BEGIN
  SELECT l.lanvalidator INTO v FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang WHERE p.oid = f;
  IF v <> 0 THEN EXECUTE format('SELECT %s(%s)', v, f::oid); END IF;
END $strata$;
