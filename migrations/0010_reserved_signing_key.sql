-- Signing keys reserved by com.atproto.server.reserveSigningKey: by DID (used by createAccount
-- when that DID moves here) or, without a DID, by the key's own did:key.
CREATE TABLE `reserved_signing_key` (
	`id` text PRIMARY KEY NOT NULL,
	`signing_key_did` text NOT NULL,
	`signing_key_encrypted` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reserved_signing_key_created_idx` ON `reserved_signing_key` (`created_at`);
