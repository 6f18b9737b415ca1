"""The rating upsert is compiled once: the text statement :func:`delphi.participation.writes.upsert_statement`
gives is the dialect's own ``INSERT ... ON CONFLICT DO UPDATE``, in a form SQLAlchemy's statement cache keeps
(it never caches the dialect constructs themselves)."""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from delphi.participation.writes import COLUMNS, upsert_insert, upsert_statement

SHAPES = list(product((False, True), repeat=3))
DIALECTS = {
    "sqlite": sqlite.dialect(paramstyle="named"),
    "postgresql": postgresql.dialect(paramstyle="named"),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("shape", SHAPES)
def test_the_upsert_is_the_dialects_own_statement_in_a_form_the_statement_cache_keeps(
    dialect: str, shape: tuple[bool, bool, bool]
) -> None:
    assert (
        upsert_insert(dialect, shape)._generate_cache_key() is None
    )  # what SQLAlchemy would compile each time
    stmt = upsert_statement(dialect, shape)
    assert stmt._generate_cache_key() is not None
    own = upsert_insert(dialect, shape).compile(
        dialect=DIALECTS[dialect], column_keys=list(COLUMNS), for_executemany=True
    )
    assert stmt.text == str(own)
    assert "RETURNING" not in stmt.text  # one statement for a single save and for a batch's executemany
    assert set(stmt._bindparams) == set(COLUMNS) | set(own.params) - set(COLUMNS)
