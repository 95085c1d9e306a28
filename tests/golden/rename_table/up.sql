-- strata migration 0002_rename_customers_to_clients
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 3. moves and renames
ALTER TABLE "tenant_kct"."customers" RENAME TO "clients";
ALTER TABLE "tenant_kct"."clients" RENAME CONSTRAINT "customers_pkey" TO "clients_pkey";
ALTER TABLE "tenant_kct"."clients" RENAME CONSTRAINT "customers_email_key" TO "clients_email_key";
