-- Notes about the days first..last (inclusive): those about every campaign and, when
-- campaign_ids is given, those about one of them (all notes when it is NULL).
SELECT a.annotation_id, a.day, a.campaign_id, c.name AS campaign, a.body, a.created_by, a.created_at
FROM annotations a
LEFT JOIN campaigns c USING (campaign_id)
WHERE a.day BETWEEN :first AND :last
  AND (a.campaign_id IS NULL OR CAST(:campaign_ids AS integer[]) IS NULL
       OR a.campaign_id = ANY(CAST(:campaign_ids AS integer[])))
ORDER BY a.day, a.created_at, a.annotation_id
