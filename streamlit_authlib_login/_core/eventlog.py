"""The module's log lines as data, for log pipelines: ``[auth] log_format = "json"``.

Each line the module logs about an event (a login, a refusal, a logout, a session ended at
refresh, a store outage) carries its fields beside its text, as the ``extra`` of its log call
(``event(...)``): ``event``, and as they apply ``provider``, ``check`` (the failed check, as
the failure page shows it), ``request_id`` (the one on that page) and ``sub_fingerprint`` (a
short hash of the person's ``sub``, ``trace.fingerprint``: never the ``sub`` or an email
itself). ``JsonFormatter`` prints every record as one JSON object of them, with its time,
level, logger and text; lines with no event (start-up notes) have only those. The text lines
stay the default, and are the same either way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from .errors import ConfigError

LOG_FORMATS = ("text", "json")
FIELD = "auth_event"  # the log record's attribute that carries the fields


def event(
    name: str,
    *,
    provider: str | None = None,
    check: str | None = None,
    request_id: str | None = None,
    sub_fingerprint: str | None = None,
) -> dict[str, object]:
    """The ``extra`` of a log call about the event ``name``: its fields, those given."""
    fields = {
        "event": name,
        "provider": provider,
        "check": check,
        "request_id": request_id,
        "sub_fingerprint": sub_fingerprint,
    }
    return {FIELD: {key: value for key, value in fields.items() if value is not None}}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, the event's
    fields, ``message`` (the text line's), and ``exception`` for a traceback. JSON escapes line
    breaks, so nothing a client sends can start a line of its own."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, FIELD, None)  # set by ``event``, through the log call's extra
        if isinstance(fields, Mapping):
            line |= fields
        line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def parse_log_format(value: object) -> str:
    """``[auth] log_format``: ``text`` (the default) or ``json``."""
    if value is None:
        return LOG_FORMATS[0]
    if value not in LOG_FORMATS:
        raise ConfigError(
            f'[auth] `log_format` must be "text" (the default) or "json" (one JSON object a line, '
            f"for log pipelines); got {value!r}."
        )
    return str(value)
