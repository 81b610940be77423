"""Errors raised when network input is wrong: each names the file, line and field, and what was expected."""

from __future__ import annotations


class NetworkError(ValueError):
    """A network (file or model) that cannot be used as it is."""


class InpError(NetworkError):
    """A problem in an EPANET `.inp` file.

    Carries the file, the 1-based line number, the section and the field so that a user can find and fix it;
    `str()` gives one readable sentence.  A reader raises it before returning anything: there is never a
    half-built model.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        section: str | None = None,
        field: str | None = None,
        expected: str | None = None,
        text: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.section = section
        self.field = field
        self.expected = expected
        self.text = text
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        head = ":".join(where)
        parts = [f"{head}: " if head else ""]
        if self.section:
            parts.append(f"[{self.section}] ")
        if self.field:
            parts.append(f"field '{self.field}': ")
        parts.append(self.message)
        if self.expected:
            parts.append(f" (expected {self.expected})")
        if self.text is not None:
            parts.append(f" — in: {self.text.strip()!r}")
        return "".join(parts)


class InpErrors(InpError):
    """Several problems in one file, reported together (the first is also the headline)."""

    def __init__(self, errors: list[InpError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(
            first.message,
            path=first.path,
            line=first.line,
            section=first.section,
            field=first.field,
            expected=first.expected,
            text=first.text,
        )

    def __str__(self) -> str:  # every problem, one per line
        more = len(self.errors) - 1
        lines = [str(InpError.__str__(e)) if not isinstance(e, InpErrors) else str(e) for e in self.errors[:50]]
        if more >= 50:
            lines.append(f"... and {len(self.errors) - 50} more")
        return f"{len(self.errors)} problem(s) in the file:\n" + "\n".join(lines)
