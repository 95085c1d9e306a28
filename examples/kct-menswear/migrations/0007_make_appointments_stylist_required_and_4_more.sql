-- strata:no-transaction
-- strata migration 0007_make_appointments_stylist_required_and_4_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 7. constraints
ALTER TABLE "tenant_kct"."appointments" VALIDATE CONSTRAINT "appointments_stylist_not_null";

-- 4. columns
ALTER TABLE "tenant_kct"."appointments" ALTER COLUMN "stylist" SET NOT NULL;

-- 7. constraints
ALTER TABLE "tenant_kct"."appointments" DROP CONSTRAINT "appointments_stylist_not_null";

-- 6. indexes
CREATE INDEX CONCURRENTLY "orders_status_idx" ON "tenant_kct"."orders" ("status");

-- 7. constraints
ALTER TABLE "tenant_kct"."order_items" VALIDATE CONSTRAINT "order_items_outfit_template_id_fkey";
