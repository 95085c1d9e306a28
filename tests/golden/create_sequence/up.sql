-- strata migration 0002_add_orders_number_and_2_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. sequences
CREATE SEQUENCE shop.order_no AS bigint START WITH 1000 CACHE 10;

-- 4. columns, sequences
-- squawk-ignore adding-field-with-default, adding-required-field -- a hazard for shop.orders.number, gated by its confirmation
ALTER TABLE "shop"."orders" ADD COLUMN "number" bigint DEFAULT nextval('shop.order_no') NOT NULL;
ALTER SEQUENCE "shop"."order_no" OWNED BY "shop"."orders"."number";
