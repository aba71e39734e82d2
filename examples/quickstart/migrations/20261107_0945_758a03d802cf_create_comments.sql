-- retort:revision 758a03d802cf
-- retort:revises 29a1d6a8bf14
-- retort:message create comments
-- retort:created 2026-11-07T09:45:00Z

-- retort:upgrade
CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX comments_post_id ON comments (post_id);

-- retort:downgrade
DROP INDEX comments_post_id;
DROP TABLE comments;
