CREATE TABLE `account` (
	`did` text PRIMARY KEY NOT NULL,
	`handle` text NOT NULL,
	`email` text,
	`email_confirmed_at` text,
	`password_hash` text NOT NULL,
	`signing_key_encrypted` text NOT NULL,
	`signing_key_did` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` text NOT NULL,
	`deactivated_at` text,
	`takedown_ref` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `account_handle_unique` ON `account` (`handle`);--> statement-breakpoint
CREATE UNIQUE INDEX `account_email_unique` ON `account` (`email`);--> statement-breakpoint
CREATE TABLE `account_token` (
	`did` text NOT NULL,
	`purpose` text NOT NULL,
	`token` text NOT NULL,
	`requested_at` text NOT NULL,
	PRIMARY KEY(`did`, `purpose`)
);
--> statement-breakpoint
CREATE TABLE `app_password` (
	`did` text NOT NULL,
	`name` text NOT NULL,
	`password_hash` text NOT NULL,
	`privileged` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`did`, `name`)
);
--> statement-breakpoint
CREATE TABLE `invite_code` (
	`code` text PRIMARY KEY NOT NULL,
	`available_uses` integer NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`for_account` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `invite_code_use` (
	`code` text NOT NULL,
	`used_by` text NOT NULL,
	`used_at` text NOT NULL,
	PRIMARY KEY(`code`, `used_by`)
);
--> statement-breakpoint
CREATE TABLE `rate_limit` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `record` (
	`did` text NOT NULL,
	`collection` text NOT NULL,
	`rkey` text NOT NULL,
	`cid` text NOT NULL,
	`value` text NOT NULL,
	`rev` text NOT NULL,
	`indexed_at` text NOT NULL,
	PRIMARY KEY(`did`, `collection`, `rkey`)
);
--> statement-breakpoint
CREATE TABLE `refresh_token` (
	`id` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`app_password_name` text,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `refresh_token_did_idx` ON `refresh_token` (`did`);--> statement-breakpoint
CREATE TABLE `repo_root` (
	`did` text PRIMARY KEY NOT NULL,
	`cid` text NOT NULL,
	`rev` text NOT NULL,
	`indexed_at` text NOT NULL
);
