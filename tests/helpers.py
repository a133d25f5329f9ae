"""Small assertions shared by several test modules."""
from __future__ import annotations


def one_line_error(capsys, *needles: str) -> str:
    """The captured stderr is one line, no traceback, holding every needle."""
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err
