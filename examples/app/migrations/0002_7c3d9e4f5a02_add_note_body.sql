-- retort:revision 7c3d9e4f5a02
-- retort:revises 5e1f0c7a2b01
-- retort:message add a body to notes
-- retort:created 2026-12-06T15:01:00Z

-- retort:upgrade
ALTER TABLE notes ADD COLUMN body VARCHAR(1000) NOT NULL DEFAULT '';
UPDATE notes SET body = 'one line per revision' WHERE id = 1;

-- retort:downgrade
ALTER TABLE notes DROP COLUMN body;
