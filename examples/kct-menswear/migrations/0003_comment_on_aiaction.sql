-- strata migration 0003_comment_on_aiaction
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
COMMENT ON TABLE "public"."AiAction" IS 'A mixed-case table name from the shop''s first framework; it stays exactly so.';
