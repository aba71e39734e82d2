from sqlalchemy import MetaData, Table, Column, Integer, String, ForeignKey, Index, Boolean, Text, DateTime, func, CheckConstraint

metadata = MetaData()
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", DateTime, server_default=func.current_timestamp()),
)
posts = Table(
    "posts", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text),
    CheckConstraint("length(title) > 0", name="title_not_empty"),
)
Index("posts_user", posts.c.user_id)
