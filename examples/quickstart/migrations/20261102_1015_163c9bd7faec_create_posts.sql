-- retort:revision 163c9bd7faec
-- retort:revises 754ce64befef
-- retort:message create posts
-- retort:created 2026-11-02T10:15:00Z

-- retort:upgrade
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    published_at TEXT
);

-- retort:downgrade
DROP TABLE posts;
