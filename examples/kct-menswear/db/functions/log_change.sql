-- Writes every insert, update and delete of the table it is on into
-- audit.change_log, with the row as it is after the change (before it, for
-- a delete).
CREATE FUNCTION audit.log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    changed := OLD;
  ELSE
    changed := NEW;
  END IF;
  INSERT INTO audit.change_log (entity, entity_id, action, changes)
  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, changed.id, lower(TG_OP), to_jsonb(changed));
  RETURN NULL;
END
$$;
