-- The activity log's writer now fills activity_category itself, in the same
-- transaction as the events (store::sqlite, record_activity): the trigger
-- made SQLite build and parse a JSON array for every categorised event,
-- about a fifth of the write path's time. Deleting an event (retention)
-- still removes its rows through activity_category_remove.
DROP TRIGGER activity_category_add;
