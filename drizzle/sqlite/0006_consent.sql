ALTER TABLE `oauth_states` ADD `browser_hash` text;--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `phase` text DEFAULT 'connect' NOT NULL;