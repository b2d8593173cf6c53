-- Moderation (com.atproto.admin.*): record and blob takedowns, per-account invite switch.
ALTER TABLE `record` ADD `takedown_ref` text;--> statement-breakpoint
ALTER TABLE `blob` ADD `takedown_ref` text;--> statement-breakpoint
ALTER TABLE `account` ADD `invites_disabled` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Sessions of the admin web page (/admin): the cookie's hash, its CSRF token, its expiry.
CREATE TABLE `admin_session` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`csrf` text NOT NULL,
	`expires_at` text NOT NULL
);--> statement-breakpoint
-- One row per day: totals the overview charts (writes per day from the seq, storage growth).
CREATE TABLE `daily_stat` (
	`day` text PRIMARY KEY NOT NULL,
	`last_seq` integer NOT NULL,
	`accounts` integer NOT NULL,
	`records` integer NOT NULL,
	`record_bytes` integer NOT NULL,
	`blob_bytes` integer NOT NULL
);--> statement-breakpoint
-- The relay doctor's last look at each relay (src/sync/relay-doctor.ts), as JSON.
CREATE TABLE `relay_status` (
	`relay` text PRIMARY KEY NOT NULL,
	`checked_at` text NOT NULL,
	`report` text NOT NULL
);
