-- The OAuth authorization server (src/oauth/): pushed authorization requests (and their
-- codes), the sessions they become, and the accounts each browser remembers. Replay records
-- (DPoP proof and client-assertion `jti`s, PKCE challenges) go to `used_jti`.
CREATE TABLE `oauth_request` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`client_auth` text NOT NULL,
	`parameters` text NOT NULL,
	`dpop_jkt` text NOT NULL,
	`device_id` text,
	`did` text,
	`code_hash` text,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_request_code_idx` ON `oauth_request` (`code_hash`);
--> statement-breakpoint
CREATE INDEX `oauth_request_expires_idx` ON `oauth_request` (`expires_at`);
--> statement-breakpoint
CREATE TABLE `oauth_session` (
	`id` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`client_id` text NOT NULL,
	`client_name` text,
	`client_auth` text NOT NULL,
	`scope` text NOT NULL,
	`dpop_jkt` text NOT NULL,
	`refresh_hash` text NOT NULL,
	`previous_refresh_hash` text,
	`code_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `oauth_session_refresh_idx` ON `oauth_session` (`refresh_hash`);
--> statement-breakpoint
CREATE INDEX `oauth_session_previous_refresh_idx` ON `oauth_session` (`previous_refresh_hash`);
--> statement-breakpoint
CREATE INDEX `oauth_session_code_idx` ON `oauth_session` (`code_hash`);
--> statement-breakpoint
CREATE INDEX `oauth_session_did_idx` ON `oauth_session` (`did`);
--> statement-breakpoint
CREATE INDEX `oauth_session_expires_idx` ON `oauth_session` (`expires_at`);
--> statement-breakpoint
CREATE TABLE `oauth_device_account` (
	`device_hash` text NOT NULL,
	`did` text NOT NULL,
	`authenticated_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`device_hash`, `did`)
);
--> statement-breakpoint
CREATE INDEX `oauth_device_account_expires_idx` ON `oauth_device_account` (`expires_at`);
