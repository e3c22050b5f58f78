ALTER TABLE "oauth_states" ADD COLUMN "service_user_id" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "service_name" text;--> statement-breakpoint
CREATE UNIQUE INDEX "users_org_service" ON "users" USING btree ("org_id","service_name");