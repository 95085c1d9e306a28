-- Every appointment gets a stylist before the column is made NOT NULL (the
-- next migration): the house stylist where the booking named none.
UPDATE tenant_kct.appointments SET stylist = 'house' WHERE stylist IS NULL;
