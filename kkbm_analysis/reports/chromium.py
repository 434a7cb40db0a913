"""Headless Chromium over the DevTools protocol: prints reports to PDF (an optional engine) and lets tests render them."""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from html import escape
from pathlib import Path
from typing import Any

from .export import write_bytes

#: Flags for a headless Chromium that never reaches the network or writes outside its temp profile.
CHROMIUM_FLAGS: tuple[str, ...] = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                   "--disable-extensions", "--disable-default-apps", "--mute-audio",
                                   "--hide-scrollbars")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``KKBM_CHROMIUM`` first), or None."""
    env = os.environ.get("KKBM_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class ChromiumError(RuntimeError):
    """Chromium failed or did not answer."""


class ChromiumPrinter:
    """A headless Chromium driven over the DevTools protocol (``--remote-debugging-pipe``).

    One browser prints many pages (about 0.2 s each instead of ~2 s per ``--print-to-pdf``
    launch). Use as a context manager::

        with ChromiumPrinter() as printer:
            printer.print_pdf("report.html", "report.pdf", header="SYNTHETIC DATA")

    Parameters
    ----------
    executable : str, optional
        Default :func:`find_chromium`.
    timeout : float
        Seconds to wait for any answer of the browser.
    """

    def __init__(self, executable: str | None = None, *, timeout: float = 180.0) -> None:
        self.executable = executable or find_chromium()
        if not self.executable:
            raise ChromiumError("no Chromium found (install Debian's chromium: apt-get install chromium)")
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self._buf = b""
        self._id = 0
        self._events: list[dict] = []

    # ------------------------------------------------------------------ process
    def __enter__(self) -> "ChromiumPrinter":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="kkbm-chromium-")
        cmd_r, cmd_w = os.pipe()   # we write commands, the browser reads fd 3
        res_r, res_w = os.pipe()   # the browser writes fd 4, we read

        def child_fds() -> None:  # in the child, before exec: move the pipe ends to fds 3 and 4
            a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen([self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                                      "--remote-debugging-pipe", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     close_fds=False, preexec_fn=child_fds)
        os.close(cmd_r)
        os.close(res_w)
        self._w = cmd_w
        self._r = res_r
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=self.session)

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.call("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - killed below
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
        self.proc = None

    # ------------------------------------------------------------------ protocol
    def _send(self, method: str, params: dict | None, session: str | None) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self._w, data)
            data = data[n:]
        return self._id

    def _recv(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError("Chromium did not answer in time")
            ready, _, _ = select.select([self._r], [], [], min(left, 1.0))
            if not ready:
                if self.proc is not None and self.proc.poll() is not None:
                    raise ChromiumError(f"Chromium exited with code {self.proc.returncode}")
                continue
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise ChromiumError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, *, session: str | None = None,
             timeout: float | None = None) -> dict:
        """Send one DevTools command and return its result (events are queued)."""
        msg_id = self._send(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._recv(deadline)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise ChromiumError(f"{method}: {msg['error'].get('message', msg['error'])}")
                return msg.get("result", {})
            if "method" in msg:
                self._events.append(msg)

    def _wait_event(self, name: str, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, ev in enumerate(self._events):
                if ev.get("method") == name:
                    return self._events.pop(i)
            msg = self._recv(deadline)
            if "method" in msg:
                self._events.append(msg)

    def load(self, path: str | os.PathLike) -> None:
        """Open a local file and wait until it (and its fonts) have loaded."""
        self._events.clear()
        url = Path(path).resolve().as_uri()
        result = self.call("Page.navigate", {"url": url}, session=self.session)
        if result.get("errorText"):
            raise ChromiumError(f"cannot open {url}: {result['errorText']}")
        self._wait_event("Page.loadEventFired")
        self.evaluate("document.fonts.ready.then(() => true)")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the loaded page (promises awaited)."""
        res = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                        session=self.session)
        if "exceptionDetails" in res:
            raise ChromiumError(f"JavaScript error: {res['exceptionDetails'].get('text')}")
        return res.get("result", {}).get("value")

    def print_pdf(self, html: str | os.PathLike, pdf: str | os.PathLike, *, header: str = "",
                  footer: str = "") -> Path:
        """Print a local HTML file to ``pdf`` (A4, page numbers; ``header`` on every page)."""
        self.load(html)
        style = "font-family:DejaVu Sans,Arial,sans-serif;font-size:7.5px;width:100%;margin:0 13mm;"
        head = (f'<div style="{style}color:#B2182B;font-weight:bold;text-align:center">{escape(header)}</div>'
                if header else "<div></div>")
        foot = (f'<div style="{style}color:#666;display:flex;justify-content:space-between">'
                f"<span>{escape(footer)}</span>"
                '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')
        res = self.call("Page.printToPDF", {
            "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": True,
            "headerTemplate": head, "footerTemplate": foot, "paperWidth": 8.27, "paperHeight": 11.69,
            "marginTop": 0.55, "marginBottom": 0.63, "marginLeft": 0.5, "marginRight": 0.5}, session=self.session)
        return write_bytes(base64.b64decode(res["data"]), pdf)
