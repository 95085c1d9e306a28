-- strata migration 0002_change_3_columns
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "email" TYPE text;
ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "note" SET NOT NULL;
ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "note" SET DEFAULT '';
