"""The chapter as HTML (one self-contained page, also the PDF's source) and as Markdown."""

from __future__ import annotations

import base64
import datetime as dt
import html

from lmp_analytics.reports.tilstand.content import Chapter, Figure, Heading, Para, Table

CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font: 10pt "DejaVu Sans", sans-serif; color: #222; }
h1.title { font-size: 17pt; } h1 { font-size: 14pt; margin-top: 1.2em; }
h2 { font-size: 11.5pt; }
table { border-collapse: collapse; width: 100%; margin: .4em 0 1em; font-size: 8.5pt; }
th, td { border: 1px solid #999; padding: 2px 4px; text-align: left; vertical-align: top; }
th { background: #eee; }
figure { margin: .5em 0 1em; } figure img { width: 100%; }
figcaption { font-size: 8.5pt; color: #444; }
"""


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def to_html(chapter: Chapter, images: dict[int, bytes], created: dt.datetime | None) -> str:
    """One HTML page (inline CSS and images, ``lang`` set)."""
    e = html.escape
    out = ['<!DOCTYPE html>', f'<html lang="{chapter.lang}">', "<head>",
           '<meta charset="utf-8">', f"<title>{e(chapter.title)}</title>",
           '<meta name="generator" content="lmp_analytics">']
    if created is not None:
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        out += [f'<meta name="dcterms.created" content="{stamp}">',
                f'<meta name="dcterms.modified" content="{stamp}">']
    out += [f"<style>{CSS}</style>", "</head>", "<body>",
            f'<h1 class="title">{e(chapter.title)}</h1>']
    for i, block in enumerate(chapter.blocks):
        if isinstance(block, Heading):
            out.append(f"<h{block.level}>{e(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            out.append(f"<p>{e(block.text)}</p>")
        elif isinstance(block, Table):
            out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in block.header)
                       + "</tr></thead><tbody>")
            for row in block.rows:
                out.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>")
            out.append("</tbody></table>")
        elif isinstance(block, Figure) and i in images:
            out.append(f'<figure><img src="{_png_uri(images[i])}" alt="{e(block.alt)}">'
                       f"<figcaption>{e(block.caption)}</figcaption></figure>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def to_markdown(chapter: Chapter, images: dict[int, bytes]) -> str:
    """Markdown (pipe tables; figures as inline PNG data with their alt text)."""
    out = [f"# {chapter.title}", ""]
    for i, block in enumerate(chapter.blocks):
        if isinstance(block, Heading):
            out += ["#" * (block.level + 1) + " " + block.text, ""]
        elif isinstance(block, Para):
            out += [block.text, ""]
        elif isinstance(block, Table):
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "---|" * len(block.header))
            out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in block.rows]
            out.append("")
        elif isinstance(block, Figure) and i in images:
            out += [f"![{block.alt}]({_png_uri(images[i])})", "", f"*{block.caption}*", ""]
    return "\n".join(out)
