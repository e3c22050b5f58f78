CREATE TABLE `audit_sink_cursors` (
	`sink` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `users` ADD `service_name` text;--> statement-breakpoint
CREATE UNIQUE INDEX `users_org_service` ON `users` (`org_id`,`service_name`);--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `service_user_id` text;--> statement-breakpoint
CREATE INDEX `audit_events_at` ON `audit_events` (`at`);