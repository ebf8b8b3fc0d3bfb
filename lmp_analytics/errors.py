"""Exception families. Every message is written for a person: file, row, column, value, expected."""

from __future__ import annotations


class LmpError(Exception):
    """Base class for every error the package raises on purpose."""


class CodebookError(LmpError):
    """A codebook file is missing, malformed or inconsistent."""


class TermError(LmpError, ValueError):
    """A term code or date that is not a valid term."""


class KeyMissingError(LmpError):
    """No pseudonym key is configured; ingest refuses to run."""


class FileRejected(LmpError):
    """A whole input file is refused; nothing from it is stored.

    ``path`` names the file; ``row`` (1-based line in the file, header = 1) and ``column`` are set
    when one cell explains the refusal.
    """

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.row = row
        self.column = column
        where = self.path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {reason}")


class RosterError(FileRejected):
    """The programme roster (or faser/elevtall file) is invalid; no ingest can proceed."""


class WarehouseError(LmpError):
    """The warehouse is missing, locked by another writer, or not a warehouse of this package."""


class DiskFullError(WarehouseError):
    """No space left for the writer's private copy; the published warehouse is unchanged (exit
    code 3, like every full disk)."""


class KeyMismatchError(LmpError):
    """The pseudonym key given is not the key that made the warehouse's pseudonyms."""


class ThresholdError(LmpError, ValueError):
    """A suppression threshold (``min_n``) that is refused: too low without the explicit flag."""


class UsageError(LmpError, ValueError):
    """An option or argument value a command does not accept (the message lists what it does)."""


def keyed(exc: BaseException, key: str, **values: object) -> BaseException:
    """``exc`` marked with the key of its message in the language files (``cli.<key>``) and the
    message's values, so that the CLI can say it in the reader's language (``LMP_LANG``);
    ``str(exc)`` stays the English message."""
    exc.message_key = key  # type: ignore[attr-defined]
    exc.message_values = values  # type: ignore[attr-defined]
    return exc


class Message(str):
    """A user-facing text (a notice, a warning, a refusal's reason) in English that carries
    the key of its text in the language files (``cli.<key>``) and its values, like
    :func:`keyed` marks an exception: the CLI says it in the reader's language, while JSON
    reports and logs keep the English text (it *is* a ``str``).
    :func:`lmp_analytics.presentation.messages.message` makes one from its key."""

    message_key: str
    message_values: dict

    def __new__(cls, english: str, key: str, values: dict) -> Message:
        """``english`` marked with ``key`` and ``values``."""
        made = super().__new__(cls, english)
        made.message_key = key
        made.message_values = dict(values)
        return made

    def __getnewargs__(self) -> tuple[str, str, dict]:
        """Copies and pickles keep the key and values."""
        return str(self), self.message_key, self.message_values
