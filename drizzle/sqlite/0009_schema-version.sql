CREATE TABLE `schema_version` (
	`id` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`app_version` text NOT NULL,
	`migrated_at` integer NOT NULL
);
