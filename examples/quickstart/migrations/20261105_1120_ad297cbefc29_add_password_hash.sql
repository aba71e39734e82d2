-- retort:revision ad297cbefc29
-- retort:revises c495453246ae
-- retort:message add password hash
-- retort:created 2026-11-05T11:20:00Z

-- retort:upgrade
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- retort:downgrade
ALTER TABLE users DROP COLUMN password_hash;
