"""Redaction by value: the configured keys themselves, whole or in part, never leave in text.

Why by value and not by shape: the wire's ``redact`` masks key *shapes* it knows (``sk-``,
``gsk_``, ``AIza``...), but a provider may echo a key of a shape nobody listed, or echo it half
masked (OpenAI: the first 8 characters, stars, the last 4; ``gsk_cana****NARY`` shows four
characters past the public prefix). Only the values we were configured with tell every echo
apart from ordinary text, so everything llmswitch keeps or shows (stored last errors and block
reasons, the status, gateway bodies and headers, log lines, alerts and webhook bodies) passes
through a ``SecretRedactor`` built from them.

Two rules, both replacing what they find by the key's masked form (``…`` and its last four
characters, as ``ApiKey.masked`` shows it; ``****`` for a value shorter than 12):

- the whole value, anywhere (for values of at least ``MIN_SECRET`` characters: shorter ones
  would match ordinary words, and no provider issues keys that short);
- a *masked token* (key characters and masks such as ``****``, ``…`` or ``...`` run together)
  in which a run of at least ``MIN_FRAGMENT`` characters beside a mask is part of a configured
  key: the whole token goes, stars and all.

A fragment that stands alone (``ends in abcd``) is not redacted: four characters of ordinary
text match some key somewhere, and without a mask beside them nothing says they are one.

``log_redaction`` puts the same redactor on llmswitch's loggers (one process-wide filter, as
logging itself is process-wide), so a message or traceback that carries a key is rewritten
before any handler formats it.

Example:
    >>> redact = SecretRedactor(["gsk_canary0123456789NARY"])
    >>> redact("Incorrect API key provided: gsk_cana****************NARY.")
    'Incorrect API key provided: …NARY.'
    >>> redact("key=gsk_canary0123456789NARY")
    'key=…NARY'
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MIN_SECRET = 8
MIN_FRAGMENT = 4
_KEYCHAR = r"[A-Za-z0-9_\-]"
_MASK = r"(?:\*++|•++|…++|\.{2,}+|·{2,}+)"
#: key characters and masks run together, with at least one mask. Possessive, and anchored
#: where a run of key characters starts, so a long body without a mask costs one pass.
_TOKEN = re.compile(rf"(?<!{_KEYCHAR})(?:{_KEYCHAR}*+{_MASK})++{_KEYCHAR}*+")
_MASK_SPLIT = re.compile(_MASK)

#: Every logger llmswitch writes to (a filter on a logger does not see its children's records,
#: so each one gets it); tests/secrets checks that the source names no other.
LOGGERS = ("llmswitch", "llmswitch.alerts", "llmswitch.server")


def masked(secret: str) -> str:
    """What may be shown of ``secret``: ``…`` and its last four characters (``ApiKey.masked``)."""
    return "****" if len(secret) < 12 else "…" + secret[-4:]


class SecretRedactor:
    """Masks configured secrets in text: whole values and fragments beside a mask.

    Callable (``redact(text) -> text``); ``add`` takes more values later (a second manager in
    the same process, a store shared by two). Thread-safe: a rebuild swaps one tuple.

    Args:
        secrets: the values to hide; empty strings are ignored.
    """

    __slots__ = ("_lock", "_state")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._state: tuple[
            frozenset[str], re.Pattern[str] | None, dict[str, str], dict[str, set[str]]
        ] = (frozenset(), None, {}, {})
        self.add(secrets)

    @property
    def secrets(self) -> frozenset[str]:
        return self._state[0]

    def add(self, secrets: Iterable[str]) -> None:
        """Also hide ``secrets`` from now on."""
        with self._lock:
            known = self._state[0] | {s for s in secrets if s}
            if known == self._state[0]:
                return
            whole = sorted((s for s in known if len(s) >= MIN_SECRET), key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, whole))) if whole else None
            shown = {s: masked(s) for s in known}
            grams: dict[str, set[str]] = {}
            for s in known:
                for i in range(len(s) - MIN_FRAGMENT + 1):
                    grams.setdefault(s[i : i + MIN_FRAGMENT], set()).add(s)
            self._state = (frozenset(known), pattern, shown, grams)

    def __call__(self, text: str) -> str:
        known, pattern, shown, grams = self._state
        if not known or not text:
            return text
        if pattern is not None:
            text = pattern.sub(lambda m: shown[m.group(0)], text)
        if not grams:
            return text
        return _TOKEN.sub(lambda m: _fragment(m.group(0), grams, shown), text)

    def __repr__(self) -> str:
        return f"<SecretRedactor of {len(self._state[0])} secrets>"  # never the values


def _fragment(token: str, grams: dict[str, set[str]], shown: dict[str, str]) -> str:
    """``token`` replaced by the masked key when a run beside one of its masks is part of a key.

    Which key, when several share a run (a common prefix): the one most of the token's runs
    belong to, so the masked tail shown is the echoed key's.
    """
    parts = _MASK_SPLIT.split(token)
    last = len(parts) - 1
    beside = [
        piece
        for i, part in enumerate(parts)
        if len(part) >= MIN_FRAGMENT
        # a part left of a mask touches it with its end, a part right of one with its start
        for piece in (part[-MIN_FRAGMENT:] if i < last else "", part[:MIN_FRAGMENT] if i else "")
        if piece in grams
    ]
    if not beside:
        return token
    votes: dict[str, int] = {}
    for part in parts:
        for i in range(len(part) - MIN_FRAGMENT + 1):
            for secret in grams.get(part[i : i + MIN_FRAGMENT], ()):
                votes[secret] = votes.get(secret, 0) + 1
    return shown[max(sorted(votes), key=votes.__getitem__)]


class _LogRedaction(logging.Filter):
    """Rewrites a record's message and traceback through the redactor; never drops one."""

    def __init__(self, redact: SecretRedactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.redact.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the handler's to report, not ours
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_LOG_REDACTOR = SecretRedactor()
_LOG_FILTER = _LogRedaction(_LOG_REDACTOR)


def log_redaction(secrets: Iterable[str]) -> SecretRedactor:
    """Hide ``secrets`` from every llmswitch log line from now on (idempotent; values add up).

    Process-wide because logging is: a key of any manager built in this process stays out of
    every llmswitch logger, whichever manager's call logged it.
    """
    _LOG_REDACTOR.add(secrets)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_FILTER not in logger.filters:
            logger.addFilter(_LOG_FILTER)
    return _LOG_REDACTOR
