"""Message catalogue for user-facing text: Chinese first, English second.

Usage::

    from runze.i18n import t
    t("alarm.pressure_low", sensor="P-12", value=0.12, limit=0.14)            # Chinese
    t("alarm.pressure_low", lang="en", sensor="P-12", value=0.12, limit=0.14)

How to add a key (anyone may): add one entry to the ``MESSAGES`` of the catalogue part for its area
(``catalogue_ops.py``, ``catalogue_dispatch.py``, ``catalogue_network.py``), keyed ``"<area>.<what>"`` (area = the
module or feature: ``alarm``, ``kpi``, ``workday``, ``connection``, ``competition``, ``telemetry``...), with both
a ``"zh"`` and an ``"en"`` text.  Placeholders use ``str.format`` syntax (``{sensor}``, ``{value:.3f}``); both
languages must use the same placeholder names (``tests`` check that every entry has both languages and the same
fields).  Keep each part a flat dict, sorted by area; never remove a key another module uses.

A missing key or language never raises in production code paths: ``t`` falls back to the other language and
then to the key itself, so a typo shows up as a visible key on screen instead of a crash.  A missing
placeholder value is left as ``{name}`` in the text for the same reason.
"""

from __future__ import annotations

import string

from runze.i18n import catalogue_dispatch, catalogue_network, catalogue_ops

LANGUAGES = ("zh", "en")
DEFAULT_LANG = "zh"

_PARTS = (catalogue_ops.MESSAGES, catalogue_dispatch.MESSAGES, catalogue_network.MESSAGES)
MESSAGES: dict[str, dict[str, str]] = {k: v for part in _PARTS for k, v in part.items()}
if len(MESSAGES) != sum(len(p) for p in _PARTS):  # a key in two parts would silently lose one text
    raise RuntimeError("runze.i18n: the same key in two catalogue parts")


class _KeepMissing(dict):
    """Leaves an unknown placeholder visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_FORMATTER = string.Formatter()


def t(key: str, lang: str = DEFAULT_LANG, **kw: object) -> str:
    """The text for ``key`` in ``lang`` ("zh" or "en"), with ``kw`` filled into its placeholders."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    template = entry.get(lang) or entry.get(DEFAULT_LANG) or next(iter(entry.values()), key)
    try:
        return _FORMATTER.vformat(template, (), _KeepMissing(kw))
    except (ValueError, TypeError):
        # a value of the wrong type for a format spec (e.g. None for {value:.3f}): show it unformatted
        parts = []
        for literal, name, _spec, _conv in _FORMATTER.parse(template):
            parts.append(literal)
            if name is not None:
                parts.append(str(kw[name]) if name in kw else "{" + name + "}")
        return "".join(parts)


def both(key: str, **kw: object) -> dict[str, str]:
    """The text in every language, e.g. ``{"zh": ..., "en": ...}`` for storing with an event."""
    return {lang: t(key, lang, **kw) for lang in LANGUAGES}


def bilingual(key: str, sep: str = " / ", **kw: object) -> str:
    """Chinese and English in one line, Chinese first (``"zh / en"``): for a text that has a single slot, such as
    an exception message, a job's progress line or a note in a result."""
    return sep.join(t(key, lang, **kw) for lang in LANGUAGES)


def placeholders(template: str) -> set[str]:
    """Placeholder names used in one template (for the catalogue consistency test)."""
    return {name for _lit, name, _spec, _conv in _FORMATTER.parse(template) if name}
