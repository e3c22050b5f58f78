DROP INDEX `thread_messages_thread`;--> statement-breakpoint
ALTER TABLE `thread_messages` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Rows stored before `seq` keep their order: their rowid is the order they were written in.
UPDATE `thread_messages` SET `seq` = `rowid`;--> statement-breakpoint
CREATE UNIQUE INDEX `thread_messages_seq` ON `thread_messages` (`org_id`,`thread_key`,`seq`);
