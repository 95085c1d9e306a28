-- strata migration 0002_add_2_constraints
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 7. constraints
ALTER TABLE "tenant_kct"."customers" ADD CONSTRAINT "customers_email_has_at" CHECK (position('@' in email) > 1) NOT VALID;
ALTER TABLE "tenant_kct"."customers" ADD CONSTRAINT "customers_note_check" CHECK (length(note) < 2000) NOT VALID;

-- strata:no-transaction
-- strata migration 0003_add_2_indexes_and_2_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 6. indexes
CREATE INDEX CONCURRENTLY "customers_note_idx" ON "tenant_kct"."customers" ("note");
CREATE INDEX CONCURRENTLY "customers_open_notes" ON "tenant_kct"."customers" ("email", "note") WHERE note IS NOT NULL;

-- 7. constraints
ALTER TABLE "tenant_kct"."customers" VALIDATE CONSTRAINT "customers_email_has_at";
ALTER TABLE "tenant_kct"."customers" VALIDATE CONSTRAINT "customers_note_check";
