ALTER TABLE `users` ADD `service_name` text;--> statement-breakpoint
CREATE UNIQUE INDEX `users_org_service` ON `users` (`org_id`,`service_name`);--> statement-breakpoint
ALTER TABLE `oauth_states` ADD `service_user_id` text;