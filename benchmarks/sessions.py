"""Many dashboard sessions without a browser: Streamlit's own websocket protocol.

A session here is what a browser tab is to the server: one websocket to ``/_stcore/stream``, a
``rerun_script`` back-message per page (the page's script hash, as a sidebar click sends), and
the forward-messages of the run until ``script_finished``. The server does all it does for a
tab (a script thread, the warm-up, every frame converted and every chart's spec sent); the
client only reads the messages, so N sessions cost the machine almost nothing on the client
side, unlike N Chromium renderers on the same two cores. What it does not time is the browser
drawing the charts (``benchmarks.browser`` times that for one user).

A page counts as failed when its run shows an exception or the app's generic error
(``error_generic``), ends other than successfully, or does not end within the timeout.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


def _generic_errors() -> tuple[str, ...]:
    """The app's generic error (``error_generic``) in every language: a page that failed."""
    from lmp_analytics.presentation.strings import text

    return tuple(text("dashboard.error_generic", lang) for lang in ("nb", "nn", "en"))


@dataclass
class PageRun:
    """One page run of a session: the page's url path, seconds from the request to the end of
    the run, and what went wrong (empty: nothing)."""

    page: str
    seconds: float
    problems: list[str] = field(default_factory=list)


@dataclass
class SessionResult:
    runs: list[PageRun] = field(default_factory=list)
    error: str | None = None      # the session could not go on (connection, timeout)


def _problems(msg) -> list[str]:
    """Exceptions and the generic error in one forward-message."""
    out: list[str] = []
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return out
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    if kind == "exception":
        out.append(f"exception: {element.exception.type}: {element.exception.message[:300]}")
    elif kind == "alert" and element.alert.body in _generic_errors():
        out.append(f"error: {element.alert.body[:300]}")
    return out


class Session:
    """One websocket session of the app at ``url`` (http://host:port)."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        self.url = url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.timeout = timeout
        self.pages: dict[str, str] = {}     # url path -> page script hash
        self._ws = None

    async def __aenter__(self) -> Session:
        from websockets.asyncio.client import connect

        self._ws = await asyncio.wait_for(connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout,
            ping_interval=None), self.timeout)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def run(self, page: str = "") -> PageRun:
        """Run ``page`` (a url path from :attr:`pages`; ``""``: the app's default page) and
        read the run's messages until it ends."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        back.rerun_script.query_string = ""
        back.rerun_script.page_script_hash = self.pages.get(page, "")
        if page:
            back.rerun_script.page_name = page
        started = time.perf_counter()
        await self._ws.send(back.SerializeToString())
        problems: list[str] = []
        deadline = started + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"page {page or '(default)'}: no end of run within "
                                   f"{self.timeout:.0f} s")
            try:
                raw = await asyncio.wait_for(self._ws.recv(), left)
            except TimeoutError:
                raise TimeoutError(f"page {page or '(default)'}: no end of run within "
                                   f"{self.timeout:.0f} s") from None
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash
                              for p in msg.navigation.app_pages}
            elif kind == "new_session" and msg.new_session.app_pages and not self.pages:
                self.pages = {p.url_pathname: p.page_script_hash
                              for p in msg.new_session.app_pages}
            problems += _problems(msg)
            if kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue      # a widget's default set a rerun off: its run follows
                if status != "FINISHED_SUCCESSFULLY":
                    problems.append(f"run ended {status}")
                return PageRun(page or "(default)", time.perf_counter() - started, problems)


async def tour(url: str, *, rounds: int = 1, timeout: float = 120.0,
               start_delay: float = 0.0) -> SessionResult:
    """One session: the default page, then every page of the navigation ``rounds`` times."""
    result = SessionResult()
    await asyncio.sleep(start_delay)
    try:
        async with Session(url, timeout=timeout) as session:
            result.runs.append(await session.run())
            for _ in range(rounds):
                for page in list(session.pages):
                    result.runs.append(await session.run(page))
    except Exception as exc:  # a session that cannot go on is a result
        result.error = f"{type(exc).__name__}: {exc}"[:500]
    return result


async def concurrent_tours(url: str, sessions: int, *, rounds: int = 1,
                           timeout: float = 120.0, stagger: float = 0.0
                           ) -> list[SessionResult]:
    """``sessions`` tours at once (session i starts ``i * stagger`` seconds in)."""
    return list(await asyncio.gather(*(
        tour(url, rounds=rounds, timeout=timeout, start_delay=i * stagger)
        for i in range(sessions))))


def run_concurrent(url: str, sessions: int, **kwargs) -> list[SessionResult]:
    """:func:`concurrent_tours` from synchronous code."""
    return asyncio.run(concurrent_tours(url, sessions, **kwargs))


__all__ = ["PageRun", "Session", "SessionResult", "concurrent_tours", "run_concurrent", "tour"]
