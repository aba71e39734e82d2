-- retort:revision c495453246ae
-- retort:revises 754ce64befef
-- retort:message add sessions
-- retort:created 2026-11-03T14:00:00Z
-- retort:branch-labels auth

-- retort:upgrade
CREATE TABLE sessions (
    token TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- retort:downgrade
DROP INDEX sessions_user_id;
DROP TABLE sessions;
