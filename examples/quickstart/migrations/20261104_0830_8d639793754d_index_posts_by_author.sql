-- retort:revision 8d639793754d
-- retort:revises 163c9bd7faec
-- retort:message index posts by author
-- retort:created 2026-11-04T08:30:00Z

-- retort:upgrade
CREATE INDEX posts_author_published ON posts (author_id, published_at);

-- retort:downgrade
DROP INDEX posts_author_published;
