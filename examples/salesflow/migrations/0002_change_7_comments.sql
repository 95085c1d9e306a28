-- strata migration 0002_change_7_comments
-- Generated from the models by strata. Review it; edit it only before it is first applied.

-- 4. columns
COMMENT ON TABLE "activity"."activity_types" IS 'Call, email, meeting.';
COMMENT ON TABLE "auth"."roles" IS 'A role such as `sales`.';
COMMENT ON TABLE "auth"."user_roles" IS 'Which user has which role.';
COMMENT ON TABLE "auth"."users" IS 'A person who signs in.';
COMMENT ON TABLE "contact"."contact_types" IS 'Lead, customer, partner.';
COMMENT ON TABLE "contact"."tag_categories" IS 'A family of tags, such as `industry`.';
COMMENT ON TABLE "public"."tenants" IS 'One tenant; its tables live in the schema `tenant_<id>`.';
