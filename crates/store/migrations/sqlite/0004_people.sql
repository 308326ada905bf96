-- People as the school's management information system (MIS) knows them,
-- for the console's people pages and CSV import. Full names always, never
-- initials. Leavers stay (§7.10): disabled_at and disabled_by say when and
-- by whom.
ALTER TABLE person ADD COLUMN mis_id TEXT;
ALTER TABLE person ADD COLUMN given_name TEXT NOT NULL DEFAULT '';
ALTER TABLE person ADD COLUMN family_name TEXT NOT NULL DEFAULT '';
-- 'Nursery', 'Reception', 'Year 1' … 'Year 13'; none for staff.
ALTER TABLE person ADD COLUMN year_group TEXT;
-- The class or registration group, as the school writes it.
ALTER TABLE person ADD COLUMN class_group TEXT;
ALTER TABLE person ADD COLUMN email TEXT;
ALTER TABLE person ADD COLUMN kind TEXT NOT NULL DEFAULT 'pupil' CHECK (kind IN ('pupil', 'staff'));
-- Set when someone chose this person's profile by hand, so a later import
-- does not overwrite it.
ALTER TABLE person ADD COLUMN profile_set_by_hand INTEGER NOT NULL DEFAULT 0;
ALTER TABLE person ADD COLUMN disabled_at TEXT;
ALTER TABLE person ADD COLUMN disabled_by TEXT;

-- The people list pages through 50,000 people by name, filtered by year
-- group and class.
CREATE INDEX person_name ON person (family_name COLLATE NOCASE, given_name COLLATE NOCASE, username);
CREATE INDEX person_year ON person (year_group, class_group);
CREATE INDEX person_class ON person (class_group);
CREATE INDEX person_mis_id ON person (mis_id);
