-- retort:revision 29a1d6a8bf14
-- retort:revises 8d639793754d ad297cbefc29
-- retort:message merge auth into main
-- retort:created 2026-11-06T16:00:00Z

-- retort:upgrade

-- retort:downgrade
