"""CSV text: encoding and delimiter sniffing, the header check, and the fast path for plain
CSV (no quotes, no ragged lines) parsed by polars."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from lmp_analytics.ingest.readers.limits import Limits, too_many_columns
from lmp_analytics.presentation.messages import rejection

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: What a binary file's first bytes say it is (``cli.reject.binary_<what>``).
_MAGIC = {b"PK\x03\x04": "zip", b"PAR1": "parquet", b"\xd0\xcf\x11\xe0": "xls"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def check_csv_header(path: Path, text: str, delimiter: str, limits: Limits) -> None:
    """The CSV header line within the column and cell limits, before the body is parsed."""
    header = first_line(text)
    width = header.count(delimiter) + 1
    if width > limits.columns:
        raise too_many_columns(path, width, limits)
    if len(header) > limits.cell_chars:
        longest = max(header.split(delimiter), key=len)
        if len(longest) > limits.cell_chars:
            raise rejection(path, "header_name_over_limit", length=len(longest),
                            limit=limits.cell_chars, row=1)



def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """Sniff the encoding: BOM -> UTF-8-BOM, valid UTF-8, else Windows-1252; else reject."""
    if data.startswith(_UTF16_BOMS):
        raise rejection(path, "utf16")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise rejection(path, f"binary_{what}")
    if b"\x00" in data[:4096]:
        raise rejection(path, "nul_bytes")
    if data.startswith(_UTF8_BOM):
        try:
            return data[len(_UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise rejection(path, "bad_bom", detail=exc) from exc
    return utf8_or_cp1252(path, data, "bad_encoding")


def utf8_or_cp1252(path: Path, data: bytes, reject_key: str) -> tuple[str, str]:
    """``data`` as UTF-8, else as Windows-1252 (what Excel's "CSV" saves), else the rejection
    ``cli.reject.<reject_key>`` naming the first byte undefined in both and its offset."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise rejection(path, reject_key, byte=f"0x{data[exc.start]:02x}",
                        offset=exc.start) from exc


def sniff_delimiter(header_line: str, candidates: tuple[str, ...] = (";", ",", "\t")) -> str:
    """The most frequent of ``candidates`` in the header line (the earlier one on a tie; ``;``
    when none occurs)."""
    counts = {d: header_line.count(d) for d in candidates}
    best = max(candidates, key=lambda d: (counts[d], -candidates.index(d)))
    return best if counts[best] > 0 else ";"



def first_line(text: str) -> str:
    """The first line with a value (lines end at CRLF, CR or LF), without splitting the text."""
    pos = 0
    while True:
        end = _LINE_BREAK.search(text, pos)
        line = text[pos:end.start()] if end else text[pos:]
        if line.strip(" ;,\t"):
            return line
        if end is None:
            return ""
        pos = end.end()


def simple_split(text: str, delimiter: str) -> tuple[list[str], str, int] | None:
    """(header cells, body text, body lines) of a CSV text without quotes, lone CRs or NULs
    whose delimiters add up to full lines and that ends with a line end; None otherwise."""
    if '"' in text or "\x00" in text or not text.endswith("\n"):
        return None
    if text.count("\r") != text.count("\r\n"):
        return None
    body_start = text.find("\n") + 1
    header = text[: body_start - 1].removesuffix("\r").split(delimiter)
    width = len(header)
    if not "".join(header).strip():
        return None
    body = text[body_start:]
    lines = body.count("\n")
    if text.count(delimiter) != (lines + 1) * (width - 1):
        return None
    return header, body, lines


def parse_simple(body: str, delimiter: str, width: int, lines: int) -> pl.DataFrame | None:
    """The cells of simple CSV body lines, exactly as ``csv`` would split them; None when a line
    is not (ragged, blank, or polars disagrees about the line count)."""
    names = [f"c{j}" for j in range(width)]
    if lines == 0:
        return pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    try:
        frame = pl.read_csv(body.encode("utf-8"), has_header=False, separator=delimiter,
                            quote_char=None, infer_schema=False, new_columns=names,
                            raise_if_empty=False, empty_string_is_null=False)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != lines or frame.width != width:
        return None
    # Delimiters add up, but every line must have exactly width - 1 of them and a value.
    # (Python's str.strip, which decides blank records, also strips \x1c-\x1f.)
    row = pl.concat_str(pl.all(), separator="")
    if frame.select(row.str.contains(r"^[\s\x1c-\x1f]*$").any()).item():
        return None
    return frame


def simple_frame(text: str, delimiter: str) -> tuple[list[str], pl.DataFrame] | None:
    """Header and body of a CSV text without quotes, blank lines, lone CRs or ragged lines, parsed
    by polars (cells exactly as ``csv`` would split them); None when any of that does not hold, and
    :func:`_parse_records` with its checks and messages reads the file instead."""
    split = simple_split(text, delimiter)
    if split is None:
        return None
    header, body, lines = split
    frame = parse_simple(body, delimiter, len(header), lines)
    return None if frame is None else (header, frame)

