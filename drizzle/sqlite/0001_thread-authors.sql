ALTER TABLE `thread_messages` ADD `user_id` text;--> statement-breakpoint
ALTER TABLE `thread_messages` ADD `author` text;--> statement-breakpoint
ALTER TABLE `thread_messages` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `thread_messages` ADD `tool_call` text;