-- The configuration's version (config_version, src/db/schema/storage.ts): every insert, update or
-- delete of a row a tool call reads as configuration (and of its caller's user row) bumps it, whoever makes the change (once per statement).
CREATE TABLE "config_version" (
	"id" text PRIMARY KEY NOT NULL,
	"v" bigint NOT NULL
);
--> statement-breakpoint
INSERT INTO "config_version" ("id", "v") VALUES ('current', 0);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION onbehalf_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE config_version SET v = v + 1 WHERE id = 'current';
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "mcp_servers_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "mcp_servers" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "credential_bindings_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "credential_bindings" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "access_rules_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "access_rules" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "approval_rules_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "approval_rules" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "oauth_providers_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "oauth_providers" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "teams_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "teams" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "team_members_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "team_members" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
--> statement-breakpoint
CREATE TRIGGER "users_config" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "users" FOR EACH STATEMENT EXECUTE FUNCTION onbehalf_config_changed();
