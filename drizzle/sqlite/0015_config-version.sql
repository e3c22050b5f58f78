-- The configuration's version (config_version, src/db/schema/storage.ts): every insert, update or
-- delete of a row a tool call reads as configuration (and of its caller's user row) bumps it, whoever makes the change.
CREATE TABLE `config_version` (
	`id` text PRIMARY KEY NOT NULL,
	`v` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `config_version` (`id`, `v`) VALUES ('current', 0);
--> statement-breakpoint
CREATE TRIGGER `mcp_servers_config_insert` AFTER INSERT ON `mcp_servers` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `mcp_servers_config_update` AFTER UPDATE ON `mcp_servers` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `mcp_servers_config_delete` AFTER DELETE ON `mcp_servers` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `credential_bindings_config_insert` AFTER INSERT ON `credential_bindings` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `credential_bindings_config_update` AFTER UPDATE ON `credential_bindings` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `credential_bindings_config_delete` AFTER DELETE ON `credential_bindings` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `access_rules_config_insert` AFTER INSERT ON `access_rules` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `access_rules_config_update` AFTER UPDATE ON `access_rules` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `access_rules_config_delete` AFTER DELETE ON `access_rules` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `approval_rules_config_insert` AFTER INSERT ON `approval_rules` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `approval_rules_config_update` AFTER UPDATE ON `approval_rules` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `approval_rules_config_delete` AFTER DELETE ON `approval_rules` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `oauth_providers_config_insert` AFTER INSERT ON `oauth_providers` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `oauth_providers_config_update` AFTER UPDATE ON `oauth_providers` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `oauth_providers_config_delete` AFTER DELETE ON `oauth_providers` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `teams_config_insert` AFTER INSERT ON `teams` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `teams_config_update` AFTER UPDATE ON `teams` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `teams_config_delete` AFTER DELETE ON `teams` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `team_members_config_insert` AFTER INSERT ON `team_members` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `team_members_config_update` AFTER UPDATE ON `team_members` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `team_members_config_delete` AFTER DELETE ON `team_members` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `users_config_insert` AFTER INSERT ON `users` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `users_config_update` AFTER UPDATE ON `users` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
--> statement-breakpoint
CREATE TRIGGER `users_config_delete` AFTER DELETE ON `users` BEGIN UPDATE `config_version` SET `v` = `v` + 1 WHERE `id` = 'current'; END;
