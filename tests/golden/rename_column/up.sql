-- strata migration 0002_rename_customers_note_to_remark
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 3. moves and renames
ALTER TABLE "tenant_kct"."customers" RENAME COLUMN "note" TO "remark";
