CREATE TABLE "audit_sink_cursors" (
	"sink" text PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"event_id" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "oauth_states" ADD COLUMN "service_user_id" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "service_name" text;--> statement-breakpoint
CREATE INDEX "audit_events_at" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_org_service" ON "users" USING btree ("org_id","service_name");