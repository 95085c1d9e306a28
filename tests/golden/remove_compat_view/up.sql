-- strata migration 0002_drop_view_products
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 5. views
DROP VIEW "public"."products";
