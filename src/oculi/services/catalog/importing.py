"""What every import shares: reading a file line by line (gzip or not), and the report.

Each file is one transaction. A row that cannot be used is skipped and reported with its line
number; the rows that can are written together, so the catalog never holds half a file. A file
that cannot be read as a whole (not UTF-8, damaged gzip, missing columns) writes nothing.
With `strict`, any bad row rejects the whole file.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from oculi.errors import CatalogError

Progress = Callable[[int, int], None]
"""Called with (done, total): bytes of the file read, or photos looked at."""

BATCH = 500
"""Rows written per statement batch inside the file's transaction."""


@dataclass(frozen=True)
class RowProblem:
    where: str
    """"line 12" for a file row, or the photo's path inside the folder."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ImportReport:
    source: Path
    imported: int = 0
    """Rows (or photos) written."""
    created: int = 0
    """Products made by this import (photo folders and offer rows that name a new product)."""
    ignored: int = 0
    """Files not looked at: not images (photo imports only)."""
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


class Rows:
    """A text file read line by line, gzip or not, reporting progress in bytes of the file."""

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self.path = path
        try:
            self._raw = path.open("rb")
            self.total = path.stat().st_size
            magic = self._raw.read(2)
            self._raw.seek(0)
        except OSError as err:
            raise CatalogError(f"cannot read {path}: {err}") from err
        self._binary = gzip.GzipFile(fileobj=self._raw) if magic == b"\x1f\x8b" else self._raw
        self._progress = progress
        self.line = 0

    def lines(self) -> Iterator[str]:
        """Decoded line by line, so an encoding error names its line."""
        for number, raw in enumerate(cast(IO[bytes], self._binary), start=1):
            self.line = number
            if self._progress is not None and number % 200 == 0:
                self._progress(self._raw.tell(), self.total)
            text = raw.decode("utf-8")
            yield text.removeprefix("\ufeff") if number == 1 else text
        if self._progress is not None:
            self._progress(self.total, self.total)

    def close(self) -> None:
        self._binary.close()
        self._raw.close()


READ_ERRORS = (UnicodeDecodeError, OSError, EOFError)
"""Reading the file failed part-way: it is not text, or its gzip stream is damaged."""


def file_error(rows: Rows, err: Exception) -> CatalogError:
    what = "is not UTF-8 text" if isinstance(err, UnicodeDecodeError) else f"is damaged ({err})"
    return CatalogError(f"{rows.path} line {rows.line} {what}; nothing imported")


def finish(report: ImportReport, strict: bool) -> None:
    if strict and report.problems:
        first = "; ".join(str(p) for p in report.problems[:5])
        more = len(report.problems) - 5
        raise CatalogError(
            f"{report.source}: {len(report.problems)} bad rows, nothing imported (--strict): "
            f"{first}{f'; and {more} more' if more > 0 else ''}"
        )


def chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def csv_reader(
    first: str, lines: Iterator[str], rows: Rows
) -> tuple[Iterator[list[str]], list[str]]:
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(chain(first, lines), delimiter=delimiter)
    header = [h.strip().casefold() for h in next(reader)]
    return reader, header


def columns_of(
    header: list[str], wanted: dict[str, tuple[str, ...]], path: Path, required: tuple[str, ...]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for key, names in wanted.items():
        for name in names:
            if name in header:
                found[key] = header.index(name)
                break
    missing = [
        f"{wanted[k][0]} (or {', '.join(wanted[k][1:])})" if len(wanted[k]) > 1 else wanted[k][0]
        for k in required
        if k not in found
    ]
    if missing:
        raise CatalogError(
            f"{path}: missing columns: {'; '.join(missing)} (header: {', '.join(header)[:200]}); "
            "nothing imported"
        )
    return found
