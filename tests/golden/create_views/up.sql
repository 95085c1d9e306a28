-- strata migration 0002_create_3_views
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas
CREATE SCHEMA IF NOT EXISTS "analytics";

-- 8. views
CREATE VIEW "analytics"."customer_totals" AS
SELECT customer_id, sum(cents)::bigint AS total FROM shop.orders GROUP BY customer_id;
CREATE MATERIALIZED VIEW "analytics"."revenue" AS
SELECT count(*) AS orders, coalesce(sum(cents), 0)::bigint AS cents FROM shop.orders;
-- squawk-ignore require-concurrent-index-creation -- on the materialized view made just above
CREATE UNIQUE INDEX "revenue_one_row" ON "analytics"."revenue" ("orders");
CREATE VIEW "analytics"."big_customers" AS
SELECT customer_id FROM analytics.customer_totals WHERE total > 1000;
