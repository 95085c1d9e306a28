-- strata migration 0002_move_2_tables_and_1_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas
CREATE SCHEMA IF NOT EXISTS "tenant_shared";
-- "public" holds no managed table any more: it is kept, with anything left in it.

-- 3. moves and renames
ALTER TABLE "public"."product_variants" SET SCHEMA "tenant_shared";
ALTER TABLE "public"."products" SET SCHEMA "tenant_shared";

-- 5. views
CREATE VIEW "public"."products" WITH (security_invoker = true) AS SELECT "id", "sku" FROM "tenant_shared"."products";
