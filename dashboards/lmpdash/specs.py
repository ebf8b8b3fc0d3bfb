"""One way from a chart to the browser: a chart is a builder and its arguments
(:class:`ChartSpec`), built lazily, converted to Vega-Lite without validation and cached by
content, with the formatted tables (issue #21: Altair's validated ``to_dict`` was about a fifth
of a page run, and building the Altair objects as much again, the same for every session that
sees the same numbers). The cache is keyed by what a chart is made of, so one role's numbers
never answer another role's request.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

import altair as alt
import polars as pl
import pyarrow as pa
from streamlit.elements.vega_charts import (
    _convert_altair_to_vega_lite_spec as _streamlit_altair_to_vega,
)

from .i18n import vega_locale


def chart_config(lang: str) -> dict:
    """The top-level Vega-Lite ``config`` of every chart: the number locale of the language,
    axis and legend fonts and label limits (what ``chart.configure(...).configure_axis(...)
    .configure_legend(...)`` wrote, set on the spec instead of deep-copying the chart three
    times)."""
    return {
        "locale": vega_locale(lang),
        "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 220},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom",
                   "labelLimit": 320},
    }


@dataclass(frozen=True)
class ChartSpec:
    """A chart to draw: a builder of this module and its arguments. Nothing is built until
    :func:`vega_lite_spec` is asked for it and has no spec of the same content yet."""

    builder: Callable[..., alt.TopLevelMixin]
    args: tuple
    kwargs: dict

    def build(self) -> alt.TopLevelMixin:
        """The Altair chart (not configured: :func:`chart_config` is added to its spec)."""
        return self.builder(*self.args, **self.kwargs)

    def key(self) -> tuple:
        """What the chart is made of: the builder and a fingerprint of every argument (a data
        frame by a hash of its Arrow IPC bytes: schema and values). Equal keys mean equal
        inputs, so equal charts; a role's cut only ever meets its own numbers' key."""
        return (self.builder.__module__, self.builder.__qualname__,
                fingerprint(self.args), fingerprint(sorted(self.kwargs.items())))


def chart_builder(builder: Callable[..., alt.TopLevelMixin]) -> Callable[..., ChartSpec]:
    """Make ``builder`` (a pure function of its arguments: frames, strings, numbers, lists and
    dicts of them, and ``lang``) return a :class:`ChartSpec` for :func:`show_chart`; the Altair
    chart itself stays reachable as ``.altair`` (tests)."""
    @wraps(builder)
    def spec(*args, **kwargs) -> ChartSpec:
        return ChartSpec(builder, args, kwargs)

    spec.altair = builder  # type: ignore[attr-defined]
    return spec


def fingerprint(value) -> object:
    """A hashable key of what ``value`` holds (a data frame: its values, column names and
    types); equal keys mean equal values."""
    if isinstance(value, pl.DataFrame):
        # The values row by row, hashed with two seeds (128 bits a row), then all rows
        # in order; the column names and types beside them. (Not the Arrow bytes: a string
        # column's buffers differ between equal frames, so equal charts missed the cache.)
        digest = hashlib.blake2b(digest_size=20)
        if value.width:
            for seed in (0, 0x5EED_CAFE):
                digest.update(value.hash_rows(seed=seed).to_numpy().tobytes())
        return ("frame", value.height, tuple((n, str(d)) for n, d in value.schema.items()),
                digest.hexdigest())
    if isinstance(value, str | int | float | bool | type(None)):
        return (type(value).__name__, value)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(fingerprint(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((fingerprint(k), fingerprint(v)) for k, v in value.items()))
    raise TypeError(f"a chart argument of type {type(value).__name__} has no fingerprint")


#: Chart specs and formatted tables by content (:meth:`ChartSpec.key`, :meth:`Table.display`)
#: and language, least recently used dropped first once there are more than this many entries
#: or more than this many bytes (a spec's Arrow datasets, a table's estimated size).
SPEC_CACHE_ENTRIES = 1024
SPEC_CACHE_BYTES = 96 * 2**20
_specs: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
_specs_bytes = 0
_specs_lock = threading.Lock()


def _size(value: object) -> int:
    """Roughly the bytes ``value`` holds (a spec: its datasets and 2 kB of JSON)."""
    if isinstance(value, pl.DataFrame):
        return int(value.estimated_size()) + 256
    if isinstance(value, pa.Table):
        return int(value.nbytes) + 256
    if isinstance(value, dict):
        datasets = value.get("datasets") or {}
        return 2048 + sum(len(v) for v in datasets.values() if isinstance(v, bytes))
    return 256


class _Unvalidated:
    """An Altair chart whose ``to_dict`` skips the jsonschema validation (two thirds of the
    conversion's time). Every spec the pages make is validated against Altair's schema in the
    tests instead (tests/dashboards/test_chart_specs.py)."""

    def __init__(self, chart: alt.TopLevelMixin) -> None:
        self._chart = chart

    def to_dict(self, *args, **kwargs) -> dict:
        return self._chart.to_dict(*args, **{**kwargs, "validate": False})


def altair_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec Streamlit's ``st.altair_chart`` makes of ``chart`` (its own
    conversion: no theme, the data as named Arrow datasets, under its lock of Altair's global
    settings), without the schema validation."""
    return _streamlit_altair_to_vega(_Unvalidated(chart))


def vega_lite_spec(chart: ChartSpec, lang: str) -> dict:
    """The spec of ``chart`` with :func:`chart_config` for ``lang``, built once per content
    and language and then answered from memory. A copy: Streamlit adjusts the spec it is
    given."""
    def make() -> dict:
        spec = altair_spec(chart.build())
        if "config" in spec:
            raise ValueError("a chart builder set its own config: set it in chart_config")
        spec["config"] = chart_config(lang)
        return spec

    return copy.deepcopy(remember(("chart", chart.key(), lang), make))


def remember(key: tuple, make: Callable[[], object]):
    """The value remembered for ``key`` (a content key: see :meth:`ChartSpec.key`), else
    ``make()`` remembered. Two sessions missing at once both make it (same result)."""
    global _specs_bytes
    with _specs_lock:
        found = _specs.get(key)
        if found is not None:
            _specs.move_to_end(key)
            return found[0]
    value = make()
    size = _size(value)
    with _specs_lock:
        old = _specs.pop(key, None)
        _specs_bytes += size - (old[1] if old else 0)
        _specs[key] = (value, size)
        while len(_specs) > 1 and (len(_specs) > SPEC_CACHE_ENTRIES
                                   or _specs_bytes > SPEC_CACHE_BYTES):
            _specs_bytes -= _specs.popitem(last=False)[1][1]
    return value


def clear_spec_cache() -> None:
    """Forget every cached spec and table (tests)."""
    global _specs_bytes
    with _specs_lock:
        _specs.clear()
        _specs_bytes = 0
