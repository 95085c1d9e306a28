-- Nothing to undo: the stylists it assigned stay, and every appointment the
-- shop's data holds named one already.
SELECT 1;
