-- strata migration 0002_change_2_columns_and_1_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
-- squawk-ignore changing-column-type -- character varying(255) to text changes only the catalog
ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "email" TYPE text;
ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "note" SET DEFAULT '';

-- 7. constraints
ALTER TABLE "tenant_kct"."customers" ADD CONSTRAINT "customers_note_not_null" CHECK ("note" IS NOT NULL) NOT VALID;

-- strata:no-transaction
-- strata migration 0003_make_customers_note_required_and_2_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 7. constraints
ALTER TABLE "tenant_kct"."customers" VALIDATE CONSTRAINT "customers_note_not_null";

-- 4. columns
ALTER TABLE "tenant_kct"."customers" ALTER COLUMN "note" SET NOT NULL;

-- 7. constraints
ALTER TABLE "tenant_kct"."customers" DROP CONSTRAINT "customers_note_not_null";
