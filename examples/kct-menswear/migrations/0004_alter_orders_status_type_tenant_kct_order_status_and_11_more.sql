-- strata migration 0004_alter_orders_status_type_tenant_kct_order_status_and_11_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas
CREATE EXTENSION IF NOT EXISTS "pg_trgm" SCHEMA "public";
CREATE TYPE "tenant_kct"."order_status" AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'returned');

-- 4. columns, functions
ALTER TABLE "tenant_kct"."orders" ALTER COLUMN "status" DROP DEFAULT, ALTER COLUMN "status" TYPE "tenant_kct"."order_status" USING status::text::tenant_kct.order_status, ALTER COLUMN "status" SET DEFAULT 'pending';
COMMENT ON TABLE "tenant_kct"."customers" IS 'A customer of the shop: one row per e-mail address.';
COMMENT ON TABLE "tenant_kct"."order_items" IS 'One line of an order: a product (and its variant) at the price paid.';
COMMENT ON TABLE "tenant_kct"."orders" IS 'An order a customer placed; every change to it is logged in `audit.change_log`.';
COMMENT ON TABLE "tenant_shared"."products" IS 'What the shop sells, across every tenant; variants carry sizes and colours.';
CREATE FUNCTION audit.log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    changed := OLD;
  ELSE
    changed := NEW;
  END IF;
  INSERT INTO audit.change_log (entity, entity_id, action, changes)
  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, changed.id, lower(TG_OP), to_jsonb(changed));
  RETURN NULL;
END
$$;

-- 6. indexes
CREATE INDEX "products_name_trgm" ON "tenant_shared"."products" USING gin ("name" gin_trgm_ops);

-- 7. triggers
CREATE TRIGGER customers_audit AFTER INSERT OR UPDATE OR DELETE ON tenant_kct.customers
FOR EACH ROW EXECUTE FUNCTION audit.log_change();
CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON tenant_kct.orders
FOR EACH ROW EXECUTE FUNCTION audit.log_change();

-- 8. views
CREATE MATERIALIZED VIEW "analytics"."daily_revenue" AS
SELECT placed_at::date AS day, count(*) AS orders, sum(total_cents)::bigint AS revenue_cents
           FROM tenant_kct.orders WHERE status <> 'returned' GROUP BY 1;
CREATE UNIQUE INDEX "daily_revenue_day" ON "analytics"."daily_revenue" ("day");
