-- strata migration 0002_drop_customers_note
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 8. confirmed drops
ALTER TABLE "tenant_kct"."customers" DROP COLUMN "note";
