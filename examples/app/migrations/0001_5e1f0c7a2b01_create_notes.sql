-- retort:revision 5e1f0c7a2b01
-- retort:message create notes
-- retort:created 2026-12-06T15:00:00Z

-- retort:upgrade
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    title VARCHAR(200) NOT NULL
);
INSERT INTO notes (id, title) VALUES (1, 'migrated at start-up'), (2, 'served from the table');

-- retort:downgrade
DROP TABLE notes;
