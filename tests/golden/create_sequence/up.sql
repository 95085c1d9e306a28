-- strata migration 0002_set_orders_number_default_and_4_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. sequences
CREATE SEQUENCE shop.order_no AS bigint START WITH 1000 CACHE 10;

-- 4. columns, sequences
ALTER TABLE "shop"."orders" ADD COLUMN "number" bigint;
ALTER TABLE "shop"."orders" ALTER COLUMN "number" SET DEFAULT nextval('shop.order_no');
ALTER SEQUENCE "shop"."order_no" OWNED BY "shop"."orders"."number";

-- 7. constraints
ALTER TABLE "shop"."orders" ADD CONSTRAINT "orders_number_not_null" CHECK ("number" IS NOT NULL) NOT VALID;

-- strata:no-transaction
-- strata migration 0003_change_2_columns_and_2_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
DO $strata_backfill$
DECLARE
  last_page bigint := pg_catalog.pg_relation_size('"shop"."orders"') / pg_catalog.current_setting('block_size')::bigint;
  step bigint;
  page bigint := 0;
BEGIN
  SELECT CASE WHEN c.reltuples > 0 AND c.relpages > 0
              THEN greatest(1, ceil(10000 * c.relpages / c.reltuples))::bigint
              ELSE greatest(1, 10000 / 50) END
    INTO step FROM pg_catalog.pg_class c WHERE c.oid = '"shop"."orders"'::regclass;
  WHILE page <= last_page LOOP
    UPDATE "shop"."orders" SET "number" = nextval('shop.order_no')
     WHERE ctid >= pg_catalog.format('(%s,0)', page)::tid
       AND ctid < pg_catalog.format('(%s,0)', page + step)::tid
       AND "number" IS NULL;
    page := page + step;
    COMMIT;
  END LOOP;
END
$strata_backfill$;

-- 7. constraints
ALTER TABLE "shop"."orders" VALIDATE CONSTRAINT "orders_number_not_null";

-- 4. columns
ALTER TABLE "shop"."orders" ALTER COLUMN "number" SET NOT NULL;

-- 7. constraints
ALTER TABLE "shop"."orders" DROP CONSTRAINT "orders_number_not_null";
