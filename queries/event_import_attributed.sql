-- The conversions an import attributed to a campaign, counted once its last row is checked.
UPDATE event_imports SET attributed = :attributed WHERE content_sha256 = :content_sha256
