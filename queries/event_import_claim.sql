-- Record an import's key in the import's own transaction; nothing comes back when the same
-- content was imported already (a concurrent import of it waits here until the first commits).
INSERT INTO event_imports (content_sha256, file_name, rows, attributed, imported_by)
VALUES (:content_sha256, :file_name, :rows, :attributed, :imported_by)
ON CONFLICT (content_sha256) DO NOTHING
RETURNING content_sha256
