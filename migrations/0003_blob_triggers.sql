-- Blob reference tracking, kept by the database itself so that every path that changes records
-- or blobs (writes, imports, account deletion, the collector) keeps the same invariants:
-- a referenced blob is permanent, a blob whose last reference goes is deleted, and a deleted
-- blob's R2 object is queued for deletion (never deleted from R2 before this commits).

-- A record replaced by a newer version loses the references of its older versions. The index
-- writes the new version's references (at the new rev) before the record row, so the ones it
-- keeps survive.
CREATE TRIGGER `record_blob_on_record_update` AFTER UPDATE OF `rev` ON `record` BEGIN
	DELETE FROM `record_blob`
	WHERE `did` = NEW.`did` AND `collection` = NEW.`collection` AND `rkey` = NEW.`rkey`
		AND `rev` < NEW.`rev`;
END;
--> statement-breakpoint
CREATE TRIGGER `record_blob_on_record_delete` AFTER DELETE ON `record` BEGIN
	DELETE FROM `record_blob`
	WHERE `did` = OLD.`did` AND `collection` = OLD.`collection` AND `rkey` = OLD.`rkey`;
END;
--> statement-breakpoint
CREATE TRIGGER `blob_on_reference` AFTER INSERT ON `record_blob` BEGIN
	UPDATE `blob` SET `temp` = 0
	WHERE `did` = NEW.`did` AND `cid` = NEW.`blob_cid` AND `temp` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `blob_on_last_reference_gone` AFTER DELETE ON `record_blob`
WHEN NOT EXISTS (
	SELECT 1 FROM `record_blob` WHERE `did` = OLD.`did` AND `blob_cid` = OLD.`blob_cid`
) BEGIN
	DELETE FROM `blob` WHERE `did` = OLD.`did` AND `cid` = OLD.`blob_cid` AND `temp` = 0;
END;
--> statement-breakpoint
CREATE TRIGGER `blob_usage_on_insert` AFTER INSERT ON `blob` BEGIN
	INSERT INTO `blob_usage` (`did`, `blob_count`, `blob_bytes`) VALUES (NEW.`did`, 1, NEW.`size`)
	ON CONFLICT (`did`) DO UPDATE SET
		`blob_count` = `blob_count` + 1, `blob_bytes` = `blob_bytes` + excluded.`blob_bytes`;
END;
--> statement-breakpoint
CREATE TRIGGER `blob_on_delete` AFTER DELETE ON `blob` BEGIN
	UPDATE `blob_usage`
	SET `blob_count` = `blob_count` - 1, `blob_bytes` = `blob_bytes` - OLD.`size`
	WHERE `did` = OLD.`did`;
	INSERT INTO `blob_deletion` (`key`, `did`, `not_before`)
	VALUES (OLD.`key`, OLD.`did`, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	ON CONFLICT (`key`) DO UPDATE SET `not_before` = excluded.`not_before`;
END;
