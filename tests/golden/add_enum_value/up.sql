-- strata migration 0002_change_2_enums
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas
ALTER TYPE "shop"."order_status" RENAME VALUE 'shipped' TO 'sent';
ALTER TYPE "shop"."order_status" ADD VALUE IF NOT EXISTS 'refunded' AFTER 'sent';
