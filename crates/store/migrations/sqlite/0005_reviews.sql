-- Review requests both ways (§7.3.2): a block page's "ask for this to be
-- checked" (over-blocking) and a member of staff's report of a site that
-- should have been blocked (under-blocking, a filtering breach), with the
-- decision and the policy revision an approval made.
ALTER TABLE review_request ADD COLUMN kind TEXT NOT NULL DEFAULT 'over-blocking'
    CHECK (kind IN ('over-blocking', 'under-blocking'));
-- The console account that reported it; block-page requests have none (the
-- person or address is in username / client_ip).
ALTER TABLE review_request ADD COLUMN requester TEXT;
-- Who found the site (free text; may name a pupil, so shown to the DSL roles only).
ALTER TABLE review_request ADD COLUMN found_by TEXT NOT NULL DEFAULT '';
-- A staff report that a site that should be blocked was reachable.
ALTER TABLE review_request ADD COLUMN breach INTEGER NOT NULL DEFAULT 0;
ALTER TABLE review_request ADD COLUMN decided_by TEXT;
ALTER TABLE review_request ADD COLUMN decided_at TEXT;
ALTER TABLE review_request ADD COLUMN decision_reason TEXT;
-- The policy revision the approval created, if it changed the policy.
ALTER TABLE review_request ADD COLUMN policy_revision INTEGER;
CREATE INDEX review_request_status ON review_request (status, id);
CREATE INDEX review_request_reference ON review_request (reference);
CREATE INDEX review_request_requester ON review_request (requester, id);

-- Category search without a scan of the whole log: one row per category of
-- each event, kept by triggers so the write path's code is unchanged.
-- Category ids are lower-case letters, digits and hyphens; anything that
-- would not make a JSON string is skipped rather than failing the insert.
CREATE TABLE activity_category (
    category    TEXT NOT NULL,
    at_us       INTEGER NOT NULL,
    activity_id INTEGER NOT NULL,
    PRIMARY KEY (category, at_us, activity_id)
) WITHOUT ROWID;

CREATE TRIGGER activity_category_add AFTER INSERT ON activity
WHEN NEW.categories <> ''
BEGIN
    INSERT OR IGNORE INTO activity_category (category, at_us, activity_id)
    SELECT value, NEW.at_us, NEW.id
    FROM json_each(CASE WHEN json_valid('["' || replace(NEW.categories, ',', '","') || '"]')
                        THEN '["' || replace(NEW.categories, ',', '","') || '"]'
                        ELSE '[]' END)
    WHERE value <> '';
END;

CREATE TRIGGER activity_category_remove AFTER DELETE ON activity
WHEN OLD.categories <> ''
BEGIN
    DELETE FROM activity_category
    WHERE at_us = OLD.at_us AND activity_id = OLD.id
      AND category IN (SELECT value
                       FROM json_each(CASE WHEN json_valid('["' || replace(OLD.categories, ',', '","') || '"]')
                                           THEN '["' || replace(OLD.categories, ',', '","') || '"]'
                                           ELSE '[]' END));
END;

-- Blocked and safe-search events are a small share of the log; this keeps
-- "blocked between these times" a seek instead of a scan, at the cost of an
-- index write for those events only.
CREATE INDEX activity_not_allowed ON activity (verdict, at_us) WHERE verdict <> 'allow';

-- Existing rows: fill the side table once.
INSERT OR IGNORE INTO activity_category (category, at_us, activity_id)
SELECT j.value, a.at_us, a.id
FROM activity a,
     json_each(CASE WHEN json_valid('["' || replace(a.categories, ',', '","') || '"]')
                    THEN '["' || replace(a.categories, ',', '","') || '"]'
                    ELSE '[]' END) j
WHERE a.categories <> '' AND j.value <> '';
