-- retort:revision 754ce64befef
-- retort:message create users
-- retort:created 2026-11-01T09:00:00Z

-- retort:upgrade
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- retort:downgrade
DROP TABLE users;
