-- Tenant migration: applied to every tenant's schema, with "{tenant}" replaced by it.
-- strata migration 0002_create_contact_tags_and_3_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 2. tables
CREATE TABLE "{tenant}"."contact_tags" (
    "contact_id" bigint NOT NULL,
    "category_id" bigint NOT NULL,
    "label" text NOT NULL,
    CONSTRAINT "contact_tags_pkey" PRIMARY KEY ("contact_id", "category_id", "label")
);

-- 4. columns
ALTER TABLE "{tenant}"."contacts" ADD COLUMN "phone" character varying(32);

-- 7. constraints
ALTER TABLE "{tenant}"."contact_tags" ADD CONSTRAINT "contact_tags_category_id_fkey" FOREIGN KEY ("category_id") REFERENCES "contact"."tag_categories" ("id");
ALTER TABLE "{tenant}"."contact_tags" ADD CONSTRAINT "contact_tags_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "{tenant}"."contacts" ("id") ON DELETE CASCADE;
