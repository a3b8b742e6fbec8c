-- Record the assignments of members to a test's variants; an existing assignment is never
-- changed (idempotent), and each member's recorded variant is returned.
WITH proposed AS (
    SELECT member_id, variant
    FROM unnest(CAST(:member_ids AS bigint[]), CAST(:variants AS text[])) AS p(member_id, variant)
),
inserted AS (
    INSERT INTO ab_assignments (campaign_id, test_id, member_id, variant)
    SELECT :campaign_id, :test_id, member_id, variant FROM proposed
    ON CONFLICT (campaign_id, test_id, member_id) DO NOTHING
    RETURNING member_id
)
SELECT p.member_id, coalesce(a.variant, p.variant) AS variant, (i.member_id IS NOT NULL) AS new
FROM proposed p
LEFT JOIN ab_assignments a ON a.campaign_id = :campaign_id AND a.test_id = :test_id AND a.member_id = p.member_id
LEFT JOIN inserted i ON i.member_id = p.member_id
