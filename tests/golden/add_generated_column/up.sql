-- strata migration 0002_add_line_total_cents
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
ALTER TABLE "shop"."line" ADD COLUMN "total_cents" bigint GENERATED ALWAYS AS (price_cents * quantity) STORED NOT NULL;
