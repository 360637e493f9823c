"""Shared builders for the news tests: headlines, bars, and a local HTTP server whose
routes answer as hostile feeds do."""
from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from engine.data.bars import Bars
from engine.news.model import Headline

DAY = 86_400
T0 = 1_714_953_600  # 2024-05-06 00:00 UTC, a Monday


def headline(title: str, url: str, symbols=("AAA",), published: int = T0 + 15 * 3600, origin: str = "rss",
             source: str = "Wire") -> Headline:
    return Headline.make(title, url, source, published, origin, list(symbols))


def daily_bars(days: list[str], symbol: str = "AAA", timeframe: str = "1d") -> Bars:
    t = np.array([np.datetime64(d, "D").astype("datetime64[s]").astype(np.int64) for d in days], dtype=np.int64)
    c = np.linspace(10, 11, len(t))
    return Bars(symbol, timeframe, t, c, c, c, c, np.ones(len(t)), "demo")


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local Wire</title><link>http://127.0.0.1/</link>
<item><title>ACME beats estimates, raises guidance</title><link>http://127.0.0.1/a/1</link>
<pubDate>Mon, 06 May 2024 14:00:00 GMT</pubDate><description>&lt;p&gt;Strong &lt;b&gt;quarter&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>Markets wait for the Fed</title><link>http://127.0.0.1/a/2</link>
<pubDate>Mon, 06 May 2024 15:00:00 GMT</pubDate></item>
<item><title></title><link>http://127.0.0.1/a/3</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Wire</title>
<entry><title>Globex loss narrowed</title><link href="/atom/1"/><updated>2024-05-07T12:00:00Z</updated>
<id>urn:1</id></entry></feed>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&xxe;</title><link>http://127.0.0.1/x</link></item>
</channel></rss>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>http://127.0.0.1/l</link></item>
</channel></rss>"""

# not well-formed (an unclosed tag) AND declaring an entity: feedparser's lenient path must not see it
BROKEN_WITH_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY e SYSTEM "http://127.0.0.1:9/evil">]>
<rss version="2.0"><channel><title>&e;<item><title>t</title><link>http://127.0.0.1/z</link></item></channel></rss>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, Callable[[_Handler], None]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.hits.append(self.path)
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *_args: object) -> None:
        pass


def body(data: bytes, content_type: str = "application/rss+xml", length: bool = True):
    def route(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        if length:
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
    return route


def redirect(to: str):
    def route(h: _Handler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return route


def lying_length(declared: int):
    """Declares a small Content-Length... no: sends no length and streams ``declared`` bytes."""
    def route(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        chunk = b"<!-- padding -->" * 4096
        sent = 0
        while sent < declared:
            h.wfile.write(chunk)
            sent += len(chunk)
        h.close_connection = True
    return route


def huge_length(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(50_000_000))
    h.end_headers()
    h.wfile.write(b"<rss>")


def drip(h: _Handler) -> None:
    """Answers at once, then one byte every 0.2 s: each read is quick, the whole never ends."""
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(200):
        h.wfile.write(b" ")
        h.wfile.flush()
        time.sleep(0.2)


@contextmanager
def feed_server(routes: dict[str, Callable[[_Handler], None]]) -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 in a thread; yields (base URL, paths requested)."""
    handler = type("H", (_Handler,), {"routes": routes, "hits": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.hits
    finally:
        server.shutdown()
        server.server_close()
