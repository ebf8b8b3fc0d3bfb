"""Many dashboard sessions without a browser: Streamlit's own websocket protocol.

A session here is what a browser tab is to the server: one websocket to ``/_stcore/stream``, a
``rerun_script`` back-message per page (the page's script hash, as a sidebar click sends), and
the forward-messages of the run until ``script_finished``. The server does all it does for a
tab (a script thread, the warm-up, every frame converted and every chart's spec sent); the
client only reads the messages, so N sessions cost the machine almost nothing on the client
side, unlike N Chromium renderers on the same two cores. What it does not time is the browser
drawing the charts (``benchmarks.browser`` times that for one user).

Behind a proxy that keeps a browser on one server process with a cookie (``lmp dashboard
--processes N``: haproxy's ``lmp_process``), a session keeps the cookie set on its websocket's
handshake and sends it again, as a browser does, on its downloads (:meth:`Session.download`)
and on a reconnect (``Session(url, cookie=...)``).

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
    cookie: str | None = None     # what a proxy in front set (which process served it)


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

    def __init__(self, url: str, *, timeout: float = 120.0, cookie: str | None = None) -> None:
        self.http = url.rstrip("/")
        self.url = url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        self.timeout = timeout
        #: ``name=value; ...`` of the cookies this session sends (set on its handshake)
        self.cookie = cookie
        self.session_id = ""
        self.pages: dict[str, str] = {}     # url path -> page script hash
        #: (label, deferred file id) of the download buttons of the last run
        self.downloads: list[tuple[str, str]] = []
        self._ws = None

    async def __aenter__(self) -> Session:
        from websockets.asyncio.client import connect

        headers = {"Cookie": self.cookie} if self.cookie else None
        self._ws = await asyncio.wait_for(connect(
            self.url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout,
            ping_interval=None, additional_headers=headers), self.timeout)
        set_cookies = [c.split(";", 1)[0].strip()
                       for c in self._ws.response.headers.get_all("Set-Cookie")]
        if set_cookies:
            self.cookie = "; ".join([*filter(None, [self.cookie]), *set_cookies])
        return self

    async def __aexit__(self, *exc) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def run(self, page: str = "") -> PageRun:
        """Run ``page`` (a url path from :attr:`pages`; ``""``: the app's default page) and
        read the run's messages until it ends."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.downloads = []
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
            elif kind == "new_session":
                self.session_id = msg.new_session.initialize.session_id or self.session_id
                if msg.new_session.app_pages and not self.pages:
                    self.pages = {p.url_pathname: p.page_script_hash
                                  for p in msg.new_session.app_pages}
            elif (kind == "delta" and msg.delta.WhichOneof("type") == "new_element"
                  and msg.delta.new_element.WhichOneof("type") == "download_button"):
                button = msg.delta.new_element.download_button
                if button.HasField("deferred_file_id"):
                    self.downloads.append((button.label, button.deferred_file_id))
            problems += _problems(msg)
            if kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue      # a widget's default set a rerun off: its run follows
                if status != "FINISHED_SUCCESSFULLY":
                    problems.append(f"run ended {status}")
                return PageRun(page or "(default)", time.perf_counter() - started, problems)


    async def download(self, file_id: str) -> bytes:
        """The file of a deferred download button (``file_id`` from :attr:`downloads`), as a
        browser gets it on the click: the server makes it (a backend operation on the
        websocket) and answers with a ``/media/`` URL, fetched over HTTP with the session's
        cookies."""
        return await self.fetch(await self.deferred_url(file_id))

    async def fetch(self, url: str, cookie: str | None = None) -> bytes:
        """GET ``url`` (a path of the server, e.g. ``/media/...``) with the session's cookies
        (``cookie``: these instead)."""
        import urllib.request

        cookie = self.cookie if cookie is None else cookie
        get = urllib.request.Request(url if "://" in url else self.http + url,
                                     headers={"Cookie": cookie} if cookie else {})

        def fetch() -> bytes:
            with urllib.request.urlopen(get, timeout=self.timeout) as response:
                return response.read()

        return await asyncio.to_thread(fetch)

    async def deferred_url(self, file_id: str) -> str:
        """Ask the server to make the file of deferred download ``file_id``; its URL."""
        import uuid

        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        request = back.backend_operation_request
        request.request_id = uuid.uuid4().hex
        request.session_id = self.session_id
        request.deferred_file.file_id = file_id
        await self._ws.send(back.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self._ws.recv(), self.timeout))
            answer = msg.backend_operation_response
            if (msg.WhichOneof("type") == "backend_operation_response"
                    and answer.request_id == request.request_id):
                break
        if answer.error_msg:
            raise RuntimeError(f"download {file_id}: {answer.error_msg}")
        return answer.deferred_file.url


async def tour(url: str, *, rounds: int = 1, timeout: float = 120.0,
               start_delay: float = 0.0) -> SessionResult:
    """One session: the default page, then every page of the navigation ``rounds`` times."""
    result = SessionResult()
    await asyncio.sleep(start_delay)
    try:
        async with Session(url, timeout=timeout) as session:
            result.cookie = session.cookie
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
