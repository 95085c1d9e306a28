-- strata migration 0002_move_46_tables_and_102_more
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 1. schemas, roles, functions
CREATE SCHEMA IF NOT EXISTS "analytics";
CREATE SCHEMA IF NOT EXISTS "campaigns";
CREATE SCHEMA IF NOT EXISTS "events";
CREATE SCHEMA IF NOT EXISTS "messaging";
CREATE SCHEMA IF NOT EXISTS "ml";
CREATE SCHEMA IF NOT EXISTS "organizations";
CREATE SCHEMA IF NOT EXISTS "payments";
CREATE SCHEMA IF NOT EXISTS "ref";
CREATE SCHEMA IF NOT EXISTS "sponsorship";
CREATE SCHEMA IF NOT EXISTS "ticketing";
CREATE SCHEMA IF NOT EXISTS "users";
DO $strata$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'liventix_app') THEN
    CREATE ROLE "liventix_app" NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END
$strata$;
CREATE FUNCTION public.current_org_id() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT nullif(pg_catalog.current_setting('app.org_id', true), '')::bigint $$;
CREATE FUNCTION public.current_user_id() RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT nullif(pg_catalog.current_setting('app.user_id', true), '')::bigint $$;

-- 3. moves and renames
ALTER TABLE "public"."analytics_daily" SET SCHEMA "analytics";
ALTER TABLE "public"."analytics_events" SET SCHEMA "analytics";
ALTER TABLE "public"."analytics_funnels" SET SCHEMA "analytics";
ALTER TABLE "public"."page_views" SET SCHEMA "analytics";
ALTER TABLE "public"."campaigns" SET SCHEMA "campaigns";
ALTER TABLE "public"."campaign_links" SET SCHEMA "campaigns";
ALTER TABLE "public"."campaign_sends" SET SCHEMA "campaigns";
ALTER TABLE "public"."campaign_targets" SET SCHEMA "campaigns";
ALTER TABLE "public"."post_comments" SET SCHEMA "events";
ALTER TABLE "public"."events" SET SCHEMA "events";
ALTER TABLE "public"."event_media" SET SCHEMA "events";
ALTER TABLE "public"."event_posts" SET SCHEMA "events";
ALTER TABLE "public"."event_tags" SET SCHEMA "events";
ALTER TABLE "public"."venues" SET SCHEMA "events";
ALTER TABLE "public"."conversations" SET SCHEMA "messaging";
ALTER TABLE "public"."message_jobs" SET SCHEMA "messaging";
ALTER TABLE "public"."messages" SET SCHEMA "messaging";
ALTER TABLE "public"."message_templates" SET SCHEMA "messaging";
ALTER TABLE "public"."ml_feature_snapshots" SET SCHEMA "ml";
ALTER TABLE "public"."ml_models" SET SCHEMA "ml";
ALTER TABLE "public"."ml_predictions" SET SCHEMA "ml";
ALTER TABLE "public"."org_invitations" SET SCHEMA "organizations";
ALTER TABLE "public"."org_members" SET SCHEMA "organizations";
ALTER TABLE "public"."organizations" SET SCHEMA "organizations";
ALTER TABLE "public"."org_settings" SET SCHEMA "organizations";
ALTER TABLE "public"."invoices" SET SCHEMA "payments";
ALTER TABLE "public"."payment_methods" SET SCHEMA "payments";
ALTER TABLE "public"."payouts" SET SCHEMA "payments";
ALTER TABLE "public"."transactions" SET SCHEMA "payments";
ALTER TABLE "public"."event_categories" SET SCHEMA "ref";
ALTER TABLE "public"."countries" SET SCHEMA "ref";
ALTER TABLE "public"."currencies" SET SCHEMA "ref";
ALTER TABLE "public"."timezones" SET SCHEMA "ref";
ALTER TABLE "public"."sponsor_assets" SET SCHEMA "sponsorship";
ALTER TABLE "public"."sponsorship_packages" SET SCHEMA "sponsorship";
ALTER TABLE "public"."sponsors" SET SCHEMA "sponsorship";
ALTER TABLE "public"."sponsorships" SET SCHEMA "sponsorship";
ALTER TABLE "public"."order_items" SET SCHEMA "ticketing";
ALTER TABLE "public"."orders" SET SCHEMA "ticketing";
ALTER TABLE "public"."refunds" SET SCHEMA "ticketing";
ALTER TABLE "public"."ticket_tiers" SET SCHEMA "ticketing";
ALTER TABLE "public"."tickets" SET SCHEMA "ticketing";
ALTER TABLE "public"."user_follows" SET SCHEMA "users";
ALTER TABLE "public"."user_profiles" SET SCHEMA "users";
ALTER TABLE "public"."user_sessions" SET SCHEMA "users";
ALTER TABLE "public"."user_settings" SET SCHEMA "users";
ALTER TABLE "analytics"."analytics_daily" RENAME TO "daily_rollups";
ALTER TABLE "analytics"."analytics_events" RENAME TO "events";
ALTER TABLE "analytics"."analytics_funnels" RENAME TO "funnels";
ALTER TABLE "campaigns"."campaign_links" RENAME TO "links";
ALTER TABLE "campaigns"."campaign_sends" RENAME TO "sends";
ALTER TABLE "campaigns"."campaign_targets" RENAME TO "targets";
ALTER TABLE "events"."post_comments" RENAME TO "comments";
ALTER TABLE "events"."event_media" RENAME TO "media";
ALTER TABLE "events"."event_posts" RENAME TO "posts";
ALTER TABLE "events"."event_tags" RENAME TO "tags";
ALTER TABLE "messaging"."message_templates" RENAME TO "templates";
ALTER TABLE "ml"."ml_feature_snapshots" RENAME TO "feature_snapshots";
ALTER TABLE "ml"."ml_models" RENAME TO "models";
ALTER TABLE "ml"."ml_predictions" RENAME TO "predictions";
ALTER TABLE "organizations"."org_invitations" RENAME TO "invitations";
ALTER TABLE "organizations"."org_members" RENAME TO "members";
ALTER TABLE "organizations"."org_settings" RENAME TO "settings";
ALTER TABLE "ref"."event_categories" RENAME TO "categories";
ALTER TABLE "sponsorship"."sponsor_assets" RENAME TO "assets";
ALTER TABLE "sponsorship"."sponsorship_packages" RENAME TO "packages";
ALTER TABLE "users"."user_follows" RENAME TO "follows";
ALTER TABLE "users"."user_profiles" RENAME TO "profiles";
ALTER TABLE "users"."user_sessions" RENAME TO "sessions";
ALTER TABLE "users"."user_settings" RENAME TO "settings";
ALTER TABLE "analytics"."daily_rollups" RENAME CONSTRAINT "analytics_daily_pkey" TO "daily_rollups_pkey";
ALTER TABLE "analytics"."daily_rollups" RENAME CONSTRAINT "analytics_daily_org_id_fkey" TO "daily_rollups_org_id_fkey";
ALTER TABLE "analytics"."funnels" RENAME CONSTRAINT "analytics_funnels_pkey" TO "funnels_pkey";
ALTER TABLE "analytics"."funnels" RENAME CONSTRAINT "analytics_funnels_org_id_fkey" TO "funnels_org_id_fkey";
ALTER INDEX "analytics"."analytics_funnels_org_id_idx" RENAME TO "funnels_org_id_idx";
ALTER TABLE "campaigns"."links" RENAME CONSTRAINT "campaign_links_pkey" TO "links_pkey";
ALTER TABLE "campaigns"."links" RENAME CONSTRAINT "campaign_links_campaign_id_fkey" TO "links_campaign_id_fkey";
ALTER TABLE "campaigns"."sends" RENAME CONSTRAINT "campaign_sends_pkey" TO "sends_pkey";
ALTER TABLE "campaigns"."sends" RENAME CONSTRAINT "campaign_sends_campaign_id_fkey" TO "sends_campaign_id_fkey";
ALTER INDEX "campaigns"."campaign_sends_campaign_id_idx" RENAME TO "sends_campaign_id_idx";
ALTER TABLE "campaigns"."targets" RENAME CONSTRAINT "campaign_targets_pkey" TO "targets_pkey";
ALTER TABLE "campaigns"."targets" RENAME CONSTRAINT "campaign_targets_campaign_id_fkey" TO "targets_campaign_id_fkey";
ALTER TABLE "campaigns"."targets" RENAME CONSTRAINT "campaign_targets_user_id_fkey" TO "targets_user_id_fkey";
ALTER TABLE "events"."comments" RENAME CONSTRAINT "post_comments_pkey" TO "comments_pkey";
ALTER TABLE "events"."comments" RENAME CONSTRAINT "post_comments_author_id_fkey" TO "comments_author_id_fkey";
ALTER TABLE "events"."comments" RENAME CONSTRAINT "post_comments_org_id_fkey" TO "comments_org_id_fkey";
ALTER TABLE "events"."comments" RENAME CONSTRAINT "post_comments_post_id_fkey" TO "comments_post_id_fkey";
ALTER INDEX "events"."post_comments_org_id_idx" RENAME TO "comments_org_id_idx";
ALTER INDEX "events"."post_comments_post_id_idx" RENAME TO "comments_post_id_idx";
ALTER TABLE "events"."media" RENAME CONSTRAINT "event_media_pkey" TO "media_pkey";
ALTER TABLE "events"."media" RENAME CONSTRAINT "event_media_event_id_fkey" TO "media_event_id_fkey";
ALTER INDEX "events"."event_media_event_id_idx" RENAME TO "media_event_id_idx";
ALTER TABLE "events"."posts" RENAME CONSTRAINT "event_posts_pkey" TO "posts_pkey";
ALTER TABLE "events"."posts" RENAME CONSTRAINT "event_posts_author_id_fkey" TO "posts_author_id_fkey";
ALTER TABLE "events"."posts" RENAME CONSTRAINT "event_posts_event_id_fkey" TO "posts_event_id_fkey";
ALTER TABLE "events"."posts" RENAME CONSTRAINT "event_posts_org_id_fkey" TO "posts_org_id_fkey";
ALTER INDEX "events"."event_posts_event_id_idx" RENAME TO "posts_event_id_idx";
ALTER INDEX "events"."event_posts_org_id_idx" RENAME TO "posts_org_id_idx";
ALTER TABLE "events"."tags" RENAME CONSTRAINT "event_tags_pkey" TO "tags_pkey";
ALTER TABLE "events"."tags" RENAME CONSTRAINT "event_tags_event_id_fkey" TO "tags_event_id_fkey";
ALTER TABLE "messaging"."templates" RENAME CONSTRAINT "message_templates_pkey" TO "templates_pkey";
ALTER TABLE "messaging"."templates" RENAME CONSTRAINT "message_templates_org_id_fkey" TO "templates_org_id_fkey";
ALTER INDEX "messaging"."message_templates_org_id_idx" RENAME TO "templates_org_id_idx";
ALTER TABLE "ml"."feature_snapshots" RENAME CONSTRAINT "ml_feature_snapshots_pkey" TO "feature_snapshots_pkey";
ALTER TABLE "ml"."models" RENAME CONSTRAINT "ml_models_pkey" TO "models_pkey";
ALTER TABLE "ml"."predictions" RENAME CONSTRAINT "ml_predictions_pkey" TO "predictions_pkey";
ALTER TABLE "ml"."predictions" RENAME CONSTRAINT "ml_predictions_model_id_fkey" TO "predictions_model_id_fkey";
ALTER INDEX "ml"."ml_predictions_model_id_idx" RENAME TO "predictions_model_id_idx";
ALTER TABLE "organizations"."invitations" RENAME CONSTRAINT "org_invitations_pkey" TO "invitations_pkey";
ALTER TABLE "organizations"."invitations" RENAME CONSTRAINT "org_invitations_org_id_fkey" TO "invitations_org_id_fkey";
ALTER INDEX "organizations"."org_invitations_org_id_idx" RENAME TO "invitations_org_id_idx";
ALTER TABLE "organizations"."members" RENAME CONSTRAINT "org_members_pkey" TO "members_pkey";
ALTER TABLE "organizations"."members" RENAME CONSTRAINT "org_members_org_id_fkey" TO "members_org_id_fkey";
ALTER TABLE "organizations"."members" RENAME CONSTRAINT "org_members_user_id_fkey" TO "members_user_id_fkey";
ALTER INDEX "organizations"."org_members_user_id_idx" RENAME TO "members_user_id_idx";
ALTER TABLE "organizations"."settings" RENAME CONSTRAINT "org_settings_pkey" TO "settings_pkey";
ALTER TABLE "organizations"."settings" RENAME CONSTRAINT "org_settings_org_id_fkey" TO "settings_org_id_fkey";
ALTER TABLE "ref"."categories" RENAME CONSTRAINT "event_categories_pkey" TO "categories_pkey";
ALTER TABLE "ref"."categories" RENAME CONSTRAINT "event_categories_slug_key" TO "categories_slug_key";
ALTER TABLE "sponsorship"."assets" RENAME CONSTRAINT "sponsor_assets_pkey" TO "assets_pkey";
ALTER TABLE "sponsorship"."assets" RENAME CONSTRAINT "sponsor_assets_sponsor_id_fkey" TO "assets_sponsor_id_fkey";
ALTER TABLE "sponsorship"."packages" RENAME CONSTRAINT "sponsorship_packages_pkey" TO "packages_pkey";
ALTER TABLE "sponsorship"."packages" RENAME CONSTRAINT "sponsorship_packages_event_id_fkey" TO "packages_event_id_fkey";
ALTER TABLE "users"."follows" RENAME CONSTRAINT "user_follows_pkey" TO "follows_pkey";
ALTER TABLE "users"."follows" RENAME CONSTRAINT "user_follows_followee_id_fkey" TO "follows_followee_id_fkey";
ALTER TABLE "users"."follows" RENAME CONSTRAINT "user_follows_follower_id_fkey" TO "follows_follower_id_fkey";
ALTER TABLE "users"."profiles" RENAME CONSTRAINT "user_profiles_pkey" TO "profiles_pkey";
ALTER TABLE "users"."profiles" RENAME CONSTRAINT "user_profiles_email_key" TO "profiles_email_key";
ALTER TABLE "users"."profiles" RENAME CONSTRAINT "user_profiles_country_code_fkey" TO "profiles_country_code_fkey";
ALTER TABLE "users"."sessions" RENAME CONSTRAINT "user_sessions_pkey" TO "sessions_pkey";
ALTER TABLE "users"."sessions" RENAME CONSTRAINT "user_sessions_user_id_fkey" TO "sessions_user_id_fkey";
ALTER INDEX "users"."user_sessions_user_id_idx" RENAME TO "sessions_user_id_idx";
ALTER TABLE "users"."settings" RENAME CONSTRAINT "user_settings_pkey" TO "settings_pkey";
ALTER TABLE "users"."settings" RENAME CONSTRAINT "user_settings_user_id_fkey" TO "settings_user_id_fkey";

-- 4. functions
CREATE FUNCTION public.user_orgs() RETURNS SETOF bigint
LANGUAGE sql STABLE
AS $$ SELECT org_id FROM organizations.members WHERE user_id = public.current_user_id() $$;

-- 5. views
CREATE VIEW "public"."campaigns" WITH (security_invoker = true) AS SELECT "id", "org_id", "name", "starts_at" FROM "campaigns"."campaigns";
CREATE VIEW "public"."post_comments" WITH (security_invoker = true) AS SELECT "id", "org_id", "post_id", "author_id", "body", "created_at" FROM "events"."comments";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."post_comments" TO "liventix_app";
CREATE VIEW "public"."events" WITH (security_invoker = true) AS SELECT "id", "org_id", "category_id", "venue_id", "title", "starts_at", "published" FROM "events"."events";
GRANT SELECT, INSERT, UPDATE ON TABLE "public"."events" TO "liventix_app";
CREATE VIEW "public"."event_posts" WITH (security_invoker = true) AS SELECT "id", "org_id", "event_id", "author_id", "body", "created_at" FROM "events"."posts";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."event_posts" TO "liventix_app";
CREATE VIEW "public"."venues" WITH (security_invoker = true) AS SELECT "id", "name", "city", "country_code" FROM "events"."venues";
GRANT SELECT ON TABLE "public"."venues" TO "liventix_app";
CREATE VIEW "public"."message_jobs" WITH (security_invoker = true) AS SELECT "id", "org_id", "channel", "recipient", "status", "scheduled_at" FROM "messaging"."message_jobs";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."message_jobs" TO "liventix_app";
CREATE VIEW "public"."messages" WITH (security_invoker = true) AS SELECT "id", "conversation_id", "sender_id", "body", "sent_at" FROM "messaging"."messages";
CREATE VIEW "public"."org_members" WITH (security_invoker = true) AS SELECT "org_id", "user_id", "role", "joined_at" FROM "organizations"."members";
GRANT SELECT ON TABLE "public"."org_members" TO "liventix_app";
CREATE VIEW "public"."organizations" WITH (security_invoker = true) AS SELECT "id", "slug", "name", "created_at" FROM "organizations"."organizations";
GRANT SELECT ON TABLE "public"."organizations" TO "liventix_app";
CREATE VIEW "public"."invoices" WITH (security_invoker = true) AS SELECT "id", "org_id", "number", "amount_cents", "currency", "issued_at" FROM "payments"."invoices";
GRANT SELECT, INSERT ON TABLE "public"."invoices" TO "liventix_app";
CREATE VIEW "public"."transactions" WITH (security_invoker = true) AS SELECT "id", "order_id", "amount_cents", "kind", "created_at" FROM "payments"."transactions";
CREATE VIEW "public"."event_categories" WITH (security_invoker = true) AS SELECT "id", "slug", "name" FROM "ref"."categories";
GRANT SELECT ON TABLE "public"."event_categories" TO "liventix_app";
CREATE VIEW "public"."countries" WITH (security_invoker = true) AS SELECT "code", "name" FROM "ref"."countries";
GRANT SELECT ON TABLE "public"."countries" TO "liventix_app";
CREATE VIEW "public"."sponsors" WITH (security_invoker = true) AS SELECT "id", "name", "website" FROM "sponsorship"."sponsors";
CREATE VIEW "public"."sponsorships" WITH (security_invoker = true) AS SELECT "id", "sponsor_id", "package_id", "signed_at" FROM "sponsorship"."sponsorships";
CREATE VIEW "public"."order_items" WITH (security_invoker = true) AS SELECT "order_id", "line", "ticket_id", "price_cents" FROM "ticketing"."order_items";
CREATE VIEW "public"."orders" WITH (security_invoker = true) AS SELECT "id", "org_id", "buyer_id", "event_id", "total_cents", "currency", "placed_at" FROM "ticketing"."orders";
GRANT SELECT, INSERT, UPDATE ON TABLE "public"."orders" TO "liventix_app";
CREATE VIEW "public"."ticket_tiers" WITH (security_invoker = true) AS SELECT "id", "org_id", "event_id", "name", "price_cents", "capacity" FROM "ticketing"."ticket_tiers";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."ticket_tiers" TO "liventix_app";
CREATE VIEW "public"."tickets" WITH (security_invoker = true) AS SELECT "id", "org_id", "event_id", "tier_id", "holder_id", "code", "status", "issued_at" FROM "ticketing"."tickets";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "public"."tickets" TO "liventix_app";
CREATE VIEW "public"."user_profiles" WITH (security_invoker = true) AS SELECT "id", "email", "display_name", "country_code", "created_at" FROM "users"."profiles";
GRANT SELECT ON TABLE "public"."user_profiles" TO "liventix_app";

-- 7. partitions, row-level security, grants
LOCK TABLE "analytics"."events" IN ACCESS EXCLUSIVE MODE;
ALTER TABLE "analytics"."events" RENAME TO "events_strata_old";
DROP INDEX "analytics"."analytics_events_name_idx";
ALTER TABLE "analytics"."events_strata_old" DROP CONSTRAINT "analytics_events_pkey";
CREATE TABLE "analytics"."events" (
    "id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
    "occurred_at" timestamp with time zone NOT NULL,
    "org_id" bigint NOT NULL,
    "event_id" bigint,
    "user_id" bigint,
    "name" character varying(32) NOT NULL,
    CONSTRAINT "events_pkey" PRIMARY KEY ("id", "occurred_at")
) PARTITION BY RANGE ("occurred_at");
COMMENT ON TABLE "analytics"."events" IS 'What people did, partitioned by month.';
DO $strata$
DECLARE b timestamptz;
BEGIN
    FOR b IN SELECT pg_catalog.generate_series(pg_catalog.date_trunc('month', min("occurred_at")::timestamptz),
                    greatest(pg_catalog.date_trunc('month', max("occurred_at")::timestamptz), pg_catalog.date_trunc('month', now())),
                    interval '1 month') FROM "analytics"."events_strata_old" LOOP
        CONTINUE WHEN b IS NULL;
        EXECUTE pg_catalog.format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
            'analytics', 'events_p' || pg_catalog.to_char(b, 'YYYYMM'), 'analytics', 'events', b::text, (b + interval '1 month')::text);
    END LOOP;
END
$strata$;
SET LOCAL row_security = off;
INSERT INTO "analytics"."events" ("id", "occurred_at", "org_id", "event_id", "user_id", "name") OVERRIDING SYSTEM VALUE
SELECT "id", "occurred_at", "org_id", "event_id", "user_id", "name" FROM "analytics"."events_strata_old";
RESET row_security;
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('"analytics"."events"', 'id'), m) FROM (SELECT max("id") AS m FROM "analytics"."events") AS max WHERE m IS NOT NULL;
DO $strata$
DECLARE s regclass;
BEGIN
    FOR s IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class c ON c.oid = d.objid
             WHERE d.refobjid = '"analytics"."events_strata_old"'::regclass AND d.deptype = 'a' AND c.relkind = 'S' LOOP
        EXECUTE pg_catalog.format('ALTER SEQUENCE %s OWNED BY NONE', s);
    END LOOP;
END
$strata$;
DROP TABLE "analytics"."events_strata_old";
CREATE INDEX "events_name_idx" ON "analytics"."events" ("name");
GRANT SELECT, INSERT ON TABLE "analytics"."events" TO "liventix_app";
CREATE POLICY "comments_of_org" ON "events"."comments" AS PERMISSIVE FOR ALL TO "liventix_app" USING (org_id = (SELECT public.current_org_id())) WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "events_of_org" ON "events"."events" AS PERMISSIVE FOR SELECT TO "liventix_app" USING (org_id = (SELECT public.current_org_id()));
CREATE POLICY "events_written_for_org" ON "events"."events" AS PERMISSIVE FOR INSERT TO "liventix_app" WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "posts_of_org" ON "events"."posts" AS PERMISSIVE FOR ALL TO "liventix_app" USING (org_id = (SELECT public.current_org_id())) WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "jobs_of_org" ON "messaging"."message_jobs" AS PERMISSIVE FOR ALL TO "liventix_app" USING (org_id = (SELECT public.current_org_id())) WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "members_self" ON "organizations"."members" AS PERMISSIVE FOR SELECT TO "liventix_app" USING (user_id = (SELECT public.current_user_id()));
CREATE POLICY "orgs_of_member" ON "organizations"."organizations" AS PERMISSIVE FOR SELECT TO "liventix_app" USING (id IN (SELECT public.user_orgs()));
CREATE POLICY "invoices_issued_for_org" ON "payments"."invoices" AS PERMISSIVE FOR INSERT TO "liventix_app" WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "invoices_of_org" ON "payments"."invoices" AS PERMISSIVE FOR SELECT TO "liventix_app" USING (org_id = (SELECT public.current_org_id()));
CREATE POLICY "orders_changed_in_org" ON "ticketing"."orders" AS PERMISSIVE FOR UPDATE TO "liventix_app" USING (org_id = (SELECT public.current_org_id())) WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "orders_of_members_only" ON "ticketing"."orders" AS RESTRICTIVE FOR ALL TO "liventix_app" USING (org_id IN (SELECT public.user_orgs()));
CREATE POLICY "orders_of_org" ON "ticketing"."orders" AS PERMISSIVE FOR SELECT TO "liventix_app" USING (org_id = (SELECT public.current_org_id()));
CREATE POLICY "orders_placed_for_org" ON "ticketing"."orders" AS PERMISSIVE FOR INSERT TO "liventix_app" WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "tiers_of_org" ON "ticketing"."ticket_tiers" AS PERMISSIVE FOR ALL TO "liventix_app" USING (org_id = (SELECT public.current_org_id())) WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "tickets_changed_in_org" ON "ticketing"."tickets" AS PERMISSIVE FOR UPDATE TO "liventix_app" USING (org_id = (SELECT public.current_org_id())) WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "tickets_issued_for_org" ON "ticketing"."tickets" AS PERMISSIVE FOR INSERT TO "liventix_app" WITH CHECK (org_id = (SELECT public.current_org_id()));
CREATE POLICY "tickets_of_org" ON "ticketing"."tickets" AS PERMISSIVE FOR SELECT TO "liventix_app" USING (org_id = (SELECT public.current_org_id()));
CREATE POLICY "tickets_voided_in_org" ON "ticketing"."tickets" AS PERMISSIVE FOR DELETE TO "liventix_app" USING (org_id = (SELECT public.current_org_id()));
ALTER TABLE "events"."comments" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "events"."events" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "events"."posts" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "messaging"."message_jobs" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "organizations"."members" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "organizations"."organizations" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "payments"."invoices" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "ticketing"."orders" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "ticketing"."ticket_tiers" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE "ticketing"."tickets" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA "analytics" TO "liventix_app";
GRANT USAGE ON SCHEMA "events" TO "liventix_app";
GRANT USAGE ON SCHEMA "messaging" TO "liventix_app";
GRANT USAGE ON SCHEMA "organizations" TO "liventix_app";
GRANT USAGE ON SCHEMA "payments" TO "liventix_app";
GRANT USAGE ON SCHEMA "public" TO "liventix_app";
GRANT USAGE ON SCHEMA "ref" TO "liventix_app";
GRANT USAGE ON SCHEMA "ticketing" TO "liventix_app";
GRANT USAGE ON SCHEMA "users" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "events"."comments" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE ON TABLE "events"."events" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "events"."posts" TO "liventix_app";
GRANT SELECT ON TABLE "events"."venues" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "messaging"."message_jobs" TO "liventix_app";
GRANT SELECT ON TABLE "organizations"."members" TO "liventix_app";
GRANT SELECT ON TABLE "organizations"."organizations" TO "liventix_app";
GRANT SELECT, INSERT ON TABLE "payments"."invoices" TO "liventix_app";
GRANT SELECT ON TABLE "ref"."categories" TO "liventix_app";
GRANT SELECT ON TABLE "ref"."countries" TO "liventix_app";
GRANT SELECT ON TABLE "ref"."currencies" TO "liventix_app";
GRANT SELECT ON TABLE "ref"."timezones" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE ON TABLE "ticketing"."orders" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "ticketing"."ticket_tiers" TO "liventix_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "ticketing"."tickets" TO "liventix_app";
GRANT SELECT ON TABLE "users"."profiles" TO "liventix_app";
