-- An earlier import of the same content (its SHA-256 is the import's key).
SELECT file_name, rows, attributed, imported_by, imported_at
FROM event_imports
WHERE content_sha256 = :content_sha256
