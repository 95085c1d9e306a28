-- strata migration 0002_add_line_total_cents
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
-- squawk-ignore adding-field-with-default, adding-required-field -- a hazard for shop.line.total_cents, gated by its confirmation
ALTER TABLE "shop"."line" ADD COLUMN "total_cents" bigint GENERATED ALWAYS AS (price_cents * quantity) STORED NOT NULL;
