CREATE TABLE `account_pref` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`did` text NOT NULL,
	`type` text NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `account_pref_did_idx` ON `account_pref` (`did`);