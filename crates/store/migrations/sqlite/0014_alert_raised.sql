-- The daily and weekly digests read the alerts raised in a period for one
-- routing (sqlite_digests::alerts_raised); without this they read the whole
-- alert table, which grows for as long as the school keeps its alerts.
CREATE INDEX alert_raised ON alert (routing, raised_us);
