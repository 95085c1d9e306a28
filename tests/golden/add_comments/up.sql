-- strata migration 0002_add_products_note_and_2_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
ALTER TABLE "shop"."products" ADD COLUMN "note" text;
COMMENT ON COLUMN "shop"."products"."note" IS 'Added later, with its comment.';
COMMENT ON TABLE "shop"."products" IS 'What the shop sells; one row per product, whatever its size.';
COMMENT ON COLUMN "shop"."products"."name" IS 'The name customers see.';
