-- strata migration 0002_add_orders_status_and_1_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas
CREATE TYPE "shop"."order_status" AS ENUM ('pending', 'paid', 'shipped');

-- 4. columns
ALTER TABLE "shop"."orders" ADD COLUMN "status" "shop"."order_status" DEFAULT 'pending' NOT NULL;
