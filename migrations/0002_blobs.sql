CREATE TABLE `blob` (
	`did` text NOT NULL,
	`cid` text NOT NULL,
	`key` text NOT NULL,
	`mime_type` text NOT NULL,
	`size` integer NOT NULL,
	`temp` integer NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`did`, `cid`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `blob_key_unique` ON `blob` (`key`);--> statement-breakpoint
CREATE INDEX `blob_temp_idx` ON `blob` (`temp`,`created_at`);--> statement-breakpoint
CREATE TABLE `blob_deletion` (
	`key` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`not_before` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `blob_deletion_time_idx` ON `blob_deletion` (`not_before`);--> statement-breakpoint
CREATE INDEX `blob_deletion_did_idx` ON `blob_deletion` (`did`);--> statement-breakpoint
CREATE TABLE `blob_usage` (
	`did` text PRIMARY KEY NOT NULL,
	`blob_count` integer NOT NULL,
	`blob_bytes` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `record_blob` (
	`did` text NOT NULL,
	`collection` text NOT NULL,
	`rkey` text NOT NULL,
	`blob_cid` text NOT NULL,
	`rev` text NOT NULL,
	PRIMARY KEY(`did`, `collection`, `rkey`, `blob_cid`)
);
--> statement-breakpoint
CREATE INDEX `record_blob_cid_idx` ON `record_blob` (`did`,`blob_cid`);--> statement-breakpoint
CREATE TABLE `used_jti` (
	`id` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `used_jti_expires_idx` ON `used_jti` (`expires_at`);