"""Executed notebooks to self-contained HTML and PDF, and the index page.

HTML
    nbconvert's ``HTMLExporter`` (``basic`` template: the cells only) with code hidden
    (``exclude_input``, no prompts), wrapped in a page of our own: inline CSS, no script
    and no link to any CDN (no MathJax, no require.js), images as ``data:`` URIs, so the
    file opens offline and prints well. Cells tagged ``remove-cell`` (developer notes in
    the templates) and ``stderr`` streams (warnings) are left out.
PDF
    The HTML printed by headless Chromium (Debian's ``chromium``) over the DevTools
    protocol on a pipe: one browser serves a whole batch (:class:`ChromiumPrinter`), A4,
    page numbers in the footer and, for synthetic data, a red header on every page. When
    no Chromium is found, :func:`find_chromium` returns None and the batch skips PDF with a
    warning.
Every file is written atomically (temporary file, then rename).
"""
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
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Sequence

from ..io import atomic_path
from .sections import STYLE
from ..i18n import text as t

__all__ = ["notebook_to_html", "write_html", "find_chromium", "ChromiumPrinter", "ChromiumError", "write_index",
           "CHROMIUM_FLAGS", "PAGE_CSS"]

#: Flags for a headless Chromium that never reaches the network or writes outside its temp profile.
CHROMIUM_FLAGS: tuple[str, ...] = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                   "--disable-extensions", "--disable-default-apps", "--mute-audio",
                                   "--hide-scrollbars")

PAGE_CSS = """
*{box-sizing:border-box}
html{background:#eef1f5}
body{margin:0;font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;font-size:15px;color:#1a1a1a}
main.kkbm-page{max-width:62em;margin:1.5em auto;background:#fff;padding:2em 2.6em 2.4em;
  box-shadow:0 1px 4px rgba(0,0,0,.12)}
.prompt,.input_prompt,.output_prompt{display:none}
.cell,.output_wrapper,.output,.output_area,.output_subarea,.inner_cell,.text_cell_render{padding:0;margin:0;border:0;
  width:auto;max-width:none;display:block}
.output_stderr{display:none}
.output_text pre,.output_stream pre{white-space:pre-wrap;font-size:.85em;background:#f6f8fa;padding:.5em;
  border-radius:3px;overflow-x:auto}
.rendered_html img,.output_png img{max-width:100%;height:auto}
a.anchor-link{display:none}
.kkbm-footer{margin-top:2.5em;font-size:.8em;color:#777;border-top:1px solid #ddd;padding-top:.5em}
@page{size:A4;margin:14mm 13mm 16mm}
@media print{
  html{background:#fff}
  body{font-size:10.5pt}
  main.kkbm-page{max-width:none;margin:0;padding:0;box-shadow:none}
  h2{break-after:avoid}
  figure,.kkbm-cards,.kkbm-model,tr{break-inside:avoid}
  thead{display:table-header-group}
}
"""


# --------------------------------------------------------------------------- HTML
_EXPORTER: Any = None


def _exporter():
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor
        from traitlets.config import Config
        c = Config()
        c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "dev-note"}
        c.TagRemovePreprocessor.enabled = True
        exporter = HTMLExporter(config=c, template_name="basic")
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
        _EXPORTER = exporter
    return _EXPORTER


def _drop_stderr(nb: Any) -> Any:
    import copy
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def notebook_to_html(nb: Any, *, title: str, lang: str = "en", footer: str = "") -> str:
    """A self-contained HTML page of an executed notebook, code hidden.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    title : str
        The page title.
    lang : {'id', 'en'}
        The page's language (``<html lang>``).
    footer : str
        A plain-text line at the bottom (e.g. the generator and data version).
    """
    body, _ = _exporter().from_notebook_node(_drop_stderr(nb))
    foot = f'<div class="kkbm-footer">{escape(footer)}</div>' if footer else ""
    return ("<!DOCTYPE html>\n"
            f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n"
            '<meta name="generator" content="kkbm-analysis">\n'
            f"<style>{PAGE_CSS}{STYLE}</style>\n</head>\n<body>\n"
            f'<main class="kkbm-page">\n{body}\n{foot}</main>\n</body>\n</html>\n')


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(data: bytes, path: str | os.PathLike) -> Path:
    """Write a file atomically with the usual permissions (readable by others unless the umask says no)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o666 & ~_umask())
    return path


def write_html(html: str, path: str | os.PathLike) -> Path:
    """Write a page atomically."""
    return write_bytes(html.encode("utf-8"), path)


# --------------------------------------------------------------------------- PDF
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


# --------------------------------------------------------------------------- index
@dataclass(frozen=True)
class IndexEntry:
    """One row of the index page."""

    stem: str
    template: str
    province: str | None
    province_name: str | None
    period: str
    lang: str
    html: str | None
    pdf: str | None
    status: str          # 'ok' or 'failed'
    error: str = ""


def write_index(out_dir: str | os.PathLike, entries: Sequence[IndexEntry], *, synthetic: bool,
                lang: str = "en", note: str = "") -> Path:
    """``index.html`` linking every report (relative links), national briefs first.

    The page is bilingual in its headings (reports exist in both languages).
    """
    out_dir = Path(out_dir)
    title = "KKBM — laporan evaluasi / evaluation reports"
    def links(e: IndexEntry) -> str:
        if e.status != "ok":
            return f'<span class="failed">gagal / failed: {escape(e.error)}</span>'
        parts = [f'<a href="{escape(e.html)}">HTML</a>'] if e.html else []
        if e.pdf:
            parts.append(f'<a href="{escape(e.pdf)}">PDF</a>')
        return " · ".join(parts)

    def table(rows: Sequence[IndexEntry], national: bool) -> str:
        head = ("<tr><th>Periode / period</th><th>Bahasa / language</th><th>Berkas / files</th></tr>" if national else
                "<tr><th>Kode / code</th><th>Provinsi / province</th><th>Periode / period</th>"
                "<th>Bahasa / language</th><th>Berkas / files</th></tr>")
        body = []
        for e in rows:
            lang_name = {"id": "Bahasa Indonesia", "en": "English"}.get(e.lang, e.lang)
            cells = ([e.period, lang_name] if national else [e.province or "", e.province_name or "", e.period,
                                                                 lang_name])
            body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + f"<td>{links(e)}</td></tr>")
        return f"<table>{head}{''.join(body)}</table>"

    nat = sorted((e for e in entries if e.template == "national"), key=lambda e: (e.period, e.lang))
    prov = sorted((e for e in entries if e.template == "province"),
                  key=lambda e: (e.province or "", e.period, e.lang))
    banner = (f'<div class="kkbm-banner">{escape(t("report.synthetic_banner", "id"))}<br>'
              f'{escape(t("report.synthetic_banner", "en"))}</div>') if synthetic else ""
    css = (PAGE_CSS + STYLE + "table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}"
           "th{background:#0b3d63;color:#fff;text-align:left;padding:.35em .5em}"
           "td{border-bottom:1px solid #dde3ea;padding:.3em .5em}.failed{color:#a11d0c}")
    html = ("<!DOCTYPE html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            f'<main class="kkbm-page kkbm-report">{banner}<h1>{escape(title)}</h1>'
            f'<p class="kkbm-subtitle">Komunitas Keluarga Buruh Migran (BP2MI)</p>'
            "<h2>Ringkasan kebijakan nasional / National policy briefs</h2>" + table(nat, True)
            + "<h2>Laporan provinsi / Province reports</h2>" + table(prov, False)
            + (f'<p class="kkbm-note">{escape(note)}</p>' if note else "") + "</main>\n</body>\n</html>\n")
    path = out_dir / "index.html"
    if path.exists() and path.read_text(encoding="utf-8") == html:
        return path
    return write_html(html, path)
