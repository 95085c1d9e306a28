-- strata migration 0002_add_orders_updated_at_and_3_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. functions
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- 4. columns, functions
ALTER TABLE "shop"."orders" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;
CREATE FUNCTION shop.total(since timestamptz DEFAULT '-infinity') RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT coalesce(sum(total_cents), 0) FROM shop.orders WHERE updated_at >= since $$;

-- 7. triggers
CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders
FOR EACH ROW EXECUTE FUNCTION shop.touch();
