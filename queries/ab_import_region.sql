-- The region imported members live in (imports carry no geography).
INSERT INTO regions (region_code, name, latitude, longitude, timezone)
VALUES ('IMPORTED', 'Imported data set', 0, 0, 'UTC')
ON CONFLICT (region_code) DO NOTHING
