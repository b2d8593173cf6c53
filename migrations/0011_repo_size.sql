-- Each repo's block storage in its account object, measured by the Cron Trigger after it
-- changed (src/admin/repo-sizes.ts): the admin overview sums it without asking every object.
CREATE TABLE `repo_size` (
	`did` text PRIMARY KEY NOT NULL,
	`blocks` integer NOT NULL,
	`block_bytes` integer NOT NULL,
	`measured_at` text NOT NULL
);--> statement-breakpoint
-- The daily snapshot also keeps the repo blocks' total, for the storage growth chart.
ALTER TABLE `daily_stat` ADD `block_bytes` integer DEFAULT 0 NOT NULL;
