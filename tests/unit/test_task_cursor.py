"""The task list's cursor: one this server gave out reads back; anything else is a 400, never a 500."""

from __future__ import annotations

import pytest

from mediastudio.errors import BadRequest
from mediastudio.tasks import service


@pytest.mark.parametrize("cursor", ["544766095108940954-p", "999999999999999999-t_x", "12-", "x-t_1", "١٢-t_1"])
def test_a_cursor_the_server_never_gave_out_is_refused_as_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest):
        service._from_cursor(cursor)


def test_a_cursor_reads_back_where_it_was_made() -> None:
    when, task_id = service._from_cursor("1700000000000000-t_abc")
    assert task_id == "t_abc" and when.year == 2023
