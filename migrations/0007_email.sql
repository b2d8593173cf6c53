-- Email (#16): the sign-in-code switch, wrong attempts per account token, and the development
-- mailbox (written only by PDS_MAILER=dev, which needs PDS_DEV_MODE; empty in a deployment).
ALTER TABLE `account` ADD `email_auth_factor` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `account_token` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `account_token_purpose_token_idx` ON `account_token` (`purpose`, `token`);--> statement-breakpoint
CREATE TABLE `dev_mail` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`sent_at` text NOT NULL,
	`from_address` text NOT NULL,
	`to_address` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dev_mail_to_idx` ON `dev_mail` (`to_address`);
