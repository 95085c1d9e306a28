-- strata migration 0006_add_order_items_outfit_template_id_and_2_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
ALTER TABLE "tenant_kct"."order_items" ADD COLUMN "outfit_template_id" bigint;
COMMENT ON COLUMN "tenant_kct"."order_items"."outfit_template_id" IS 'The outfit template the line was sold from, if any.';

-- 7. constraints
ALTER TABLE "tenant_kct"."appointments" ADD CONSTRAINT "appointments_stylist_not_null" CHECK ("stylist" IS NOT NULL) NOT VALID;
ALTER TABLE "tenant_kct"."order_items" ADD CONSTRAINT "order_items_outfit_template_id_fkey" FOREIGN KEY ("outfit_template_id") REFERENCES "tenant_kct"."outfit_templates" ("id") NOT VALID;
