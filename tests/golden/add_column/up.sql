-- strata migration 0002_add_customers_visits
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
ALTER TABLE "tenant_kct"."customers" ADD COLUMN "visits" integer DEFAULT 0 NOT NULL;
