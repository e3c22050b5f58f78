CREATE TABLE `audit_sink_cursors` (
	`sink` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_events_at` ON `audit_events` (`at`);