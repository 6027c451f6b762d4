"""Logging set-up: one JSON object per line on stderr, for our own structlog events and for every
library that logs through the standard library (Bolt, Alembic, waitress, APScheduler). Every line,
exception text included, passes through one masking processor (`mask_event`, `bot.core.pii`)."""

from __future__ import annotations

import logging
import sys
import uuid

import structlog
from structlog.typing import EventDict, WrappedLogger

from bot.core.pii import mask_value

__all__ = ["BOLT_LOGGER", "configure_logging", "mask_event", "new_request_id"]

BOLT_LOGGER = "frontline.bolt"  # the logger the Bolt app is given (bot/app.py)

_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def new_request_id() -> str:
    """An id for one request's log lines (16 hex characters)."""
    return uuid.uuid4().hex[:16]


# A log field longer than this is cut (Bolt logs the whole body of a request it refuses: one
# unsigned 500 KB POST made a 500 KB log line).
LOG_VALUE_CHARS = 16_384


def mask_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask personal data and secrets in every field of a log event (nested values too; a field named
    like a secret loses its whole value), each string cut to LOG_VALUE_CHARS first."""
    trace = event_dict.get("exception")
    if isinstance(trace, str) and len(trace) > LOG_VALUE_CHARS:
        # A traceback keeps its end, where the error is.
        event_dict["exception"] = f"[{len(trace) - LOG_VALUE_CHARS} characters before]…{trace[-LOG_VALUE_CHARS:]}"
    return dict(mask_value(event_dict, clip=LOG_VALUE_CHARS + 64))


# In the formatter, so it runs for our events and for stdlib records (after `foreign_pre_chain`)
# alike; after `format_exc_info`, so an exception's message and traceback text are masked too.
_FORMATTER_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
    structlog.processors.format_exc_info,
    mask_event,
    structlog.processors.JSONRenderer(),
]


def configure_logging(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=_FORMATTER_PROCESSORS,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # The delivery job runs every 200 ms; APScheduler's per-run INFO lines would drown everything.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    # Alembic's "Context impl …" and "Will assume transactional DDL" came with every /readyz and
    # every CLI command; its "Running upgrade …" lines stay.
    migration_log = logging.getLogger("alembic.runtime.migration")
    migration_log.filters[:] = [_alembic_preamble_filter]
    # Bolt reads SLACK_BOT_TOKEN from the environment itself and warns, at every start, that the
    # client Frontline gives it wins; nothing is wrong.
    # The App logs through the logger Frontline gives it (bot/app.py), not its own.
    for bolt in ("slack_bolt.App", BOLT_LOGGER):
        logging.getLogger(bolt).filters[:] = [_bolt_token_filter]
    # matplotlib's font and category lookups log at INFO on every chart.
    logging.getLogger("matplotlib").setLevel(max(numeric, logging.WARNING))


def _alembic_preamble_filter(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(("Context impl", "Will assume"))


def _bolt_token_filter(record: logging.LogRecord) -> bool:
    return "`token` will be unused" not in str(record.msg)
