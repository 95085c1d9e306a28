-- strata migration 0002_create_extension_pg_trgm
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas
CREATE EXTENSION IF NOT EXISTS "pg_trgm" SCHEMA "public";
