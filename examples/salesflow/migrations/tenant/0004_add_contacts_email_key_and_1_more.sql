-- Tenant migration: applied to every tenant's schema, with "{tenant}" replaced by it.
-- strata migration 0004_add_contacts_email_key_and_1_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
COMMENT ON COLUMN "{tenant}"."contacts"."email" IS 'Unique in each tenant since the fourth tenant migration: the change
this example ships to populated tables.';

-- strata:after-transaction
-- Each step below runs on its own once the tenant's transaction has committed, and a failed one resumes where it stopped; the tenant's version advances when all have run. A new tenant runs them in its transaction, without CONCURRENTLY.

-- 7. constraints
CREATE UNIQUE INDEX CONCURRENTLY "contacts_email_key" ON "{tenant}"."contacts" ("email");
ALTER TABLE "{tenant}"."contacts" ADD CONSTRAINT "contacts_email_key" UNIQUE USING INDEX "contacts_email_key";
