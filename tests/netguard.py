"""No test touches the network: every connection to a host other than this machine is
refused and recorded, and ``tests/conftest.py`` fails the test that made it.

Installed at session start in the pytest process (``conftest.py``) and, through
``tests/netguard_site/sitecustomize.py`` on ``PYTHONPATH``, in every child Python the tests
start with the inherited environment (the CLI tests, the Qt stress test, the layering
check). Children write what they were refused to the file named by ``STOCKSCANNER_NETGUARD_LOG``.

Guarded: ``socket.socket.connect`` / ``connect_ex`` / ``sendto`` (also SSL and asyncio
sockets, which are subclasses or call them), ``socket.create_connection``,
``socket.getaddrinfo``, ``socket.gethostbyname(_ex)``, and curl_cffi's ``Curl.setopt(URL)``
(yfinance 1.x downloads through libcurl, which never calls Python's socket module).
Allowed: 127.0.0.0/8, ::1, the unspecified address, ``localhost``, AF_UNIX and other non-IP
families. A refused call raises ``NetworkBlocked``, an ``OSError`` saying "Network is
unreachable", so the code under test takes its offline path; the test fails afterwards
whether or not that error was caught.

This file imports nothing from the project: the child processes load it by path.
"""
from __future__ import annotations

import errno
import os
import socket
import sys
import threading
from typing import Any

ENV_LOG = "STOCKSCANNER_NETGUARD_LOG"
SITE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netguard_site")

_lock = threading.Lock()
_violations: list[str] = []
_installed = False


class NetworkBlocked(OSError):
    """A test tried to reach a host other than this machine."""

    def __init__(self, what: str) -> None:
        super().__init__(errno.ENETUNREACH, f"Network is unreachable (tests/netguard.py refused {what})")


def is_local_host(host: Any) -> bool:
    """True for hosts on this machine: loopback and unspecified addresses, ``localhost``."""
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    name = str(host).strip().strip("[]").lower().rstrip(".")
    if name in ("", "localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    import ipaddress

    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # a host name: resolving it is already a network request
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _refuse(what: str) -> None:
    line = f"pid {os.getpid()}: {what}"
    with _lock:
        _violations.append(line)
        log = os.environ.get(ENV_LOG)
        if log:
            try:
                with open(log, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            except OSError:
                pass
    raise NetworkBlocked(what)


def take_violations() -> list[str]:
    """What was refused since the last call (this process and its children); clears it."""
    with _lock:
        out = list(_violations)
        _violations.clear()
        log = os.environ.get(ENV_LOG)
        if log and os.path.exists(log):
            try:
                with open(log, "r+", encoding="utf-8") as f:
                    children = [ln for ln in f.read().splitlines() if ln]
                    f.seek(0)
                    f.truncate()
            except OSError:
                children = []
            own = set(out)
            out += [ln for ln in children if ln not in own]
    return out


def _check_address(sock: socket.socket, address: Any, what: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX, netlink, ...: not the network
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_local_host(host):
        _refuse(f"{what} to {address!r}")


def _patch_curl(module: Any) -> None:
    curl_cls = getattr(module, "Curl", None)
    url_opt = getattr(getattr(module, "CurlOpt", None), "URL", None)
    if curl_cls is None or url_opt is None or getattr(curl_cls.setopt, "_netguard", False):
        return
    from urllib.parse import urlsplit

    original = curl_cls.setopt

    def setopt(self: Any, option: Any, value: Any) -> Any:
        if option == url_opt:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            if not is_local_host(urlsplit(text).hostname):
                _refuse(f"curl request to {text}")
        return original(self, option, value)

    setopt._netguard = True  # type: ignore[attr-defined]
    curl_cls.setopt = setopt


class _CurlImportHook:
    """Patches ``curl_cffi.curl`` when it is first imported (importing it eagerly would slow
    down every child process)."""

    target = "curl_cffi.curl"
    #: marks every copy of this hook (the module can be imported twice, as ``netguard`` and
    #: ``tests.netguard``, e.g. under pytest-xdist): one hook must not ask another, or they recurse
    netguard_hook = True

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.target:
            return None
        for finder in sys.meta_path:
            if getattr(finder, "netguard_hook", False) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_and_patch(module: Any) -> None:
            exec_module(module)
            _patch_curl(module)

        loader.exec_module = exec_and_patch
        return spec


def install() -> None:
    """Guard this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    sock_cls = socket.socket
    connect, connect_ex, sendto = sock_cls.connect, sock_cls.connect_ex, sock_cls.sendto
    getaddrinfo, create_connection = socket.getaddrinfo, socket.create_connection
    gethostbyname, gethostbyname_ex = socket.gethostbyname, socket.gethostbyname_ex

    def guarded_connect(self: socket.socket, address: Any) -> None:
        _check_address(self, address, "connect")
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(self, address, "connect_ex")
        return connect_ex(self, address)

    def guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
        if args:
            _check_address(self, args[-1], "sendto")
        return sendto(self, data, *args)  # type: ignore[arg-type]

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_local_host(host):
            _refuse(f"getaddrinfo({host!r})")
        return getaddrinfo(host, *args, **kwargs)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_local_host(address[0]):
            _refuse(f"create_connection to {address!r}")
        return create_connection(address, *args, **kwargs)

    def guarded_gethostbyname(host: Any) -> str:
        if not is_local_host(host):
            _refuse(f"gethostbyname({host!r})")
        return gethostbyname(host)

    def guarded_gethostbyname_ex(host: Any) -> Any:
        if not is_local_host(host):
            _refuse(f"gethostbyname_ex({host!r})")
        return gethostbyname_ex(host)

    sock_cls.connect = guarded_connect  # type: ignore[method-assign]
    sock_cls.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    sock_cls.sendto = guarded_sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = guarded_getaddrinfo
    socket.create_connection = guarded_create_connection
    socket.gethostbyname = guarded_gethostbyname
    socket.gethostbyname_ex = guarded_gethostbyname_ex
    if _CurlImportHook.target in sys.modules:
        _patch_curl(sys.modules[_CurlImportHook.target])
    else:
        sys.meta_path.insert(0, _CurlImportHook())  # type: ignore[arg-type]


def install_in_children(log_path: str) -> None:
    """Make child Pythons started with this environment guard themselves and report to
    ``log_path``."""
    os.environ[ENV_LOG] = log_path
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if SITE_DIR not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([SITE_DIR, *parts])
