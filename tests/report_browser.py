"""Open an HTML file in headless Chromium and report what a reader would see.

Chromium is driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so no port, no
websocket and no extra Python package is needed. ``inspect_page`` loads the file, waits
for the load event and returns the console errors (console.error, uncaught exceptions,
failed resource loads), every request the page made, every <img> with its naturalWidth,
and the experiments listed in the report's claims summary table.

Run as a script to check a report by hand: ``python tests/report_browser.py report.html``.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
         "--disable-client-side-phishing-detection", "--disable-breakpad",
         "--no-first-run", "--no-default-browser-check", "--metrics-recording-only",
         "--mute-audio", "--host-resolver-rules=MAP * ~NOTFOUND")

#: ceiling (s) on every wait for Chromium: an answer takes milliseconds, but a machine busy
#: with other jobs can delay Chromium's start by seconds; never reached unless it hangs
WAIT_CEILING = 120.0

PROBE = """JSON.stringify({
  title: document.title,
  images: Array.from(document.images).map(img => ({
    alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight})),
  summary: Array.from(document.querySelectorAll("#claims-summary tbody tr"))
    .map(row => ({experiment: row.dataset.experiment, cells: Array.from(row.cells)
                  .map(c => c.textContent.trim())})),
  sections: Array.from(document.querySelectorAll("section.experiment"))
    .map(s => s.dataset.experiment),
  scripts: document.scripts.length,
  height: document.documentElement.scrollHeight})"""


def install_chromium(timeout: float = 900) -> tuple[str | None, str]:
    """Chromium's path, installing Debian's ``chromium`` package with apt-get if missing.

    Returns (path, "") or (None, reason it could not be installed).
    """
    path = shutil.which("chromium")
    if path:
        return path, ""
    if shutil.which("apt-get") is None:
        return None, "Chromium is not installed and apt-get is not available"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return None, "Chromium is not installed and installing it needs root (apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"`{' '.join(cmd)}` failed: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, f"`{' '.join(cmd)}` exited {done.returncode}: {' | '.join(tail)}"
    path = shutil.which("chromium")
    return (path, "") if path else (None, "apt-get install chromium left no `chromium`")


@dataclass
class PageReport:
    """What the browser saw."""

    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    probe: dict = field(default_factory=dict)

    @property
    def images(self) -> list[dict]:
        return self.probe.get("images", [])

    @property
    def broken_images(self) -> list[dict]:
        return [i for i in self.images if not (i["complete"] and i["naturalWidth"] > 0)]

    @property
    def summary_experiments(self) -> list[str]:
        return [row["experiment"] for row in self.probe.get("summary", [])]

    @property
    def external_requests(self) -> list[str]:
        """Requests for anything but the page itself and data: URIs (files or network)."""
        return [u for u in self.requests if not u.startswith(("data:", self.url))]


def _high_fd(fd: int) -> int:
    """The same pipe end moved to a descriptor >= 10 (clear of Chromium's fds 3 and 4)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class _Chromium:
    """A headless Chromium with a DevTools protocol session over a pipe."""

    def __init__(self, chromium: str, profile: str):
        to_r, self._to_w = map(_high_fd, os.pipe())
        self._from_r, from_w = map(_high_fd, os.pipe())
        self._stderr = tempfile.TemporaryFile()
        # fds 3 and 4 of Chromium: the pipe ends, arranged by bash (dash only knows fds 0-9)
        script = f'exec "$0" "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-'
        self.proc = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", script, chromium, *FLAGS,
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self._stderr)
        os.close(to_r)
        os.close(from_w)
        self._id = 0
        self._messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.events: list[dict] = []

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_r, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for m in messages:
                    self._messages.put(json.loads(m))
        self._messages.put(None)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:]

    def _next(self, deadline: float) -> dict:
        try:
            message = self._messages.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError("Chromium did not answer in time") from None
        if message is None:
            raise RuntimeError(f"Chromium closed the DevTools pipe:\n{self.stderr()}")
        return message

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = WAIT_CEILING) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = WAIT_CEILING) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._next(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_w)
        self._stderr.close()


def _console_errors(events: list[dict]) -> list[str]:
    errors = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                       for a in p.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = p.get("exceptionDetails", {})
            errors.append("exception: " + str(details.get("exception", {}).get(
                "description", details.get("text"))))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            errors.append(f"log ({entry.get('source')}): {entry.get('text')} "
                          f"{entry.get('url', '')}")
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            errors.append(f"network: {p.get('errorText')} ({p.get('requestId')})")
    return errors


def inspect_page(chromium: str, path: str | os.PathLike, settle: float = 0.3) -> PageReport:
    """Load ``path`` in headless Chromium and report errors, requests, images, claims."""
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="descentlab-chromium-") as profile:
        browser = _Chromium(chromium, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Page", "Network"):
                browser.send(f"{domain}.enable", session=session)
            nav = browser.send("Page.navigate", {"url": url}, session=session)
            if nav.get("errorText"):
                raise RuntimeError(f"navigation to {url} failed: {nav['errorText']}")
            browser.wait_for("Page.loadEventFired")
            time.sleep(settle)  # late console messages
            value = browser.send("Runtime.evaluate", {"expression": PROBE,
                                                      "returnByValue": True},
                                 session=session)["result"]["value"]
            events = browser.events
        finally:
            browser.close()
    requests = [e["params"]["request"]["url"] for e in events
                if e.get("method") == "Network.requestWillBeSent"]
    return PageReport(url, _console_errors(events), requests, json.loads(value))


if __name__ == "__main__":  # pragma: no cover - manual use
    exe, reason = install_chromium()
    if exe is None:
        sys.exit(reason)
    rep = inspect_page(exe, sys.argv[1])
    print(json.dumps({"console_errors": rep.console_errors,
                      "external_requests": rep.external_requests,
                      "images": len(rep.images), "broken_images": rep.broken_images,
                      "summary_experiments": rep.summary_experiments,
                      "sections": rep.probe.get("sections")}, indent=2))
