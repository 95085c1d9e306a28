-- Tenant migration: applied to every tenant's schema, with "{tenant}" replaced by it.
-- strata migration 0003_change_4_comments
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
COMMENT ON TABLE "{tenant}"."activities" IS 'A call, email or meeting with a contact.';
COMMENT ON TABLE "{tenant}"."contact_tags" IS 'A tag on a contact, from a shared category (added in the second tenant migration).';
COMMENT ON TABLE "{tenant}"."contacts" IS 'A person or company a tenant sells to.';
COMMENT ON COLUMN "{tenant}"."contacts"."phone" IS 'Added in the second tenant migration: the change this example ships.';
