"""A SQLAlchemy engine whose pool keeps a PyMySQL connection made at import (MariaDB)."""

from sqlalchemy import create_engine, text

engine = create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
with engine.connect() as warm:
    warm.execute(text("SELECT 1"))


def use() -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT SLEEP(0.8)"))
