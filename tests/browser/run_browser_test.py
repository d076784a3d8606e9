#!/usr/bin/env python
"""Browser test: run every notebook in JupyterLab as a student would, and move its widgets.

nbval runs the cells in a bare kernel; it cannot see a widget that never renders ("Error displaying
widget", a mismatch between ipywidgets and JupyterLab's widget manager) or a slider that moves but
changes nothing. This script starts JupyterLab from the project's environment on 127.0.0.1 (random
port and token, throw-away config/settings/workspace/runtime dirs) and drives it with Playwright for
Python in Debian's headless Chromium. For each notebook it

1. opens it, runs "Kernel > Restart Kernel and Run All Cells" (accepting the restart dialog) and
   waits until every cell has run and the kernel is idle, within a time budget;
2. fails on an error output (a traceback, in a cell or inside an Output widget), on
   "Error displaying widget" / "model not found" / "Failed to load model class", or on a cell still
   running after the budget;
3. if the notebook has widgets (CSS classes ``nmfedu-control``, ``nmfedu-figure``, ``nmfedu-run``,
   see docs/CONTRACTS.md): changes the first control as a user would (slider: focus its handle and
   press an arrow key; checkbox / toggle: click; dropdown: pick the next option), clicks the Run
   button of the same cell if there is one, and waits until the screenshot of the figure driven by
   it differs from the one taken before. It prints the latency from the change to the new figure
   (a measurement, not an assertion), fails if the figure never changes or shows a traceback, and
   then checks that the kernel still answers a trivial execute request;
4. saves one screenshot per notebook in build/browser/.

The notebooks are copied into a scratch directory under build/browser/ first, so nothing JupyterLab
does can touch the committed files (autosave is off as well). The server runs in its own process
group and is stopped (kernels included) in a ``finally`` block, also on SIGTERM/SIGINT and on the
overall timeout; the script then checks that the port is free again.

Usage:  .venv/bin/python tests/browser/run_browser_test.py [NOTEBOOK ...] [--budget S] ...
        (default: notebooks/[0-9]*.ipynb, sorted). Prints one line per notebook and a final line
        ``N passed, M failed``; the exit code is non-zero if any notebook failed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "browser"
CHROMIUM = os.environ.get("NMFEDU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
# Texts the widget manager writes into the page when a widget cannot be shown.
WIDGET_ERROR_TEXTS = [
    "Error displaying widget",
    "model not found",
    "Failed to load model class",
    "Failed to create view",
]
TRACEBACK_TEXT = "Traceback (most recent call last)"


class CellTimeout(Exception):
    def __init__(self, index: int, seconds: float):
        super().__init__(index, seconds)
        self.index, self.seconds = index, seconds


class Abort(BaseException):
    """Raised by the signal handlers (SIGTERM, SIGINT, overall timeout) to unwind into `finally`."""


@dataclass
class Result:
    path: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    run_s: float | None = None
    n_controls: int = 0
    n_figures: int = 0
    n_runs: int = 0
    changed: str = "-"
    latency_ms: float | None = None
    latencies: list[float] = field(default_factory=list)
    responsive_ms: float | None = None
    screenshot: str = "-"
    slowest: str = "-"
    total_s: float = 0.0

    def fail(self, msg: str) -> None:
        self.ok = False
        self.problems.append(msg)

    def line(self) -> str:
        run = f"{self.run_s:.1f} s" if self.run_s is not None else "-"
        lat = f"{self.latency_ms:.0f} ms" if self.latency_ms is not None else "-"
        status = "PASS" if self.ok else "FAIL"
        resp = f"{self.responsive_ms:.0f} ms" if self.responsive_ms is not None else "-"
        s = (
            f"{status} {self.path}: run-all {run} (slowest {self.slowest}), widgets {self.n_controls} controls/"
            f"{self.n_figures} figures/{self.n_runs} run buttons, changed {self.changed}, "
            f"max latency {lat}, kernel answered in {resp}, total {self.total_s:.1f} s, screenshot {self.screenshot}"
        )
        for p in self.problems:
            s += f"\n    - {p}"
        return s


# --------------------------------------------------------------------------------------------
# JupyterLab server
# --------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """True if nothing listens on the port (connections in TIME_WAIT do not count, as for any
    server that sets SO_REUSEADDR)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def prepare_scratch(scratch: Path, notebooks: list[Path]) -> list[str]:
    """Copy the notebooks' folders into `scratch` at the same relative paths; return their paths
    relative to `scratch` (= the server's root). data/ is linked so relative paths still work."""
    work = scratch / "root"
    work.mkdir(parents=True)
    for name in ("data",):
        if (REPO / name).exists():
            (work / name).symlink_to(REPO / name, target_is_directory=True)
    rels = []
    copied: set[Path] = set()
    for nb in notebooks:
        rel = nb.resolve().relative_to(REPO)
        if rel.parent not in copied:
            copied.add(rel.parent)
            dest = work / rel.parent
            if rel.parent == Path("."):
                shutil.copy2(nb, work / rel.name)
            else:
                shutil.copytree(
                    REPO / rel.parent, dest, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                )
        rels.append(rel.as_posix())
    return rels


def configure(scratch: Path, token: str) -> dict[str, Path]:
    dirs = {k: scratch / k for k in ("config", "runtime", "settings", "workspaces", "ipython")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    lab = {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        "expose_app_in_browser": True,
        "user_settings_dir": str(dirs["settings"]),
        "workspaces_dir": str(dirs["workspaces"]),
    }
    # the token goes in the config file, not on the command line where `ps` would show it
    server = {"ServerApp": {"terminals_enabled": False}, "IdentityProvider": {"token": token},
              "KernelManager": {"shutdown_wait_time": 2.0},
              "LabApp": lab}
    write_json(dirs["config"] / "jupyter_server_config.json", server)
    write_json(dirs["config"] / "jupyter_lab_config.json", {"LabApp": lab})
    s = dirs["settings"] / "@jupyterlab"
    # No news/update toasts, no autosave, every cell rendered (no windowing), no kernel prompts.
    write_json(s / "apputils-extension" / "notification.jupyterlab-settings",
               {"fetchNews": "false", "checkForUpdates": False})
    write_json(s / "docmanager-extension" / "plugin.jupyterlab-settings",
               {"autosave": False})
    write_json(s / "notebook-extension" / "tracker.jupyterlab-settings",
               {"windowingMode": "none", "kernelShutdown": False})
    write_json(s / "extensionmanager-extension" / "plugin.jupyterlab-settings",
               {"enabled": False})
    return dirs


class Server:
    def __init__(self, scratch: Path, log_path: Path):
        self.scratch = scratch
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = log_path
        self.log = None

    def start(self, timeout: float = 120.0) -> None:
        dirs = configure(self.scratch, self.token)
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            IPYTHONDIR=str(dirs["ipython"]),
            PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.scratch / 'root'}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--LabApp.extension_manager=readonly",
        ]
        if os.geteuid() == 0:  # CI and these machines run as root
            cmd.append("--allow-root")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, cwd=self.scratch / "root", env=env, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}; see build/browser/jupyterlab.log")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see build/browser/jupyterlab.log")

    def _descendants(self) -> list[int]:
        """PIDs of all processes below the server (kernels run in sessions of their own, so
        killing the server's process group alone would not reach them)."""
        if self.proc is None:
            return []
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
        out, todo = [], [self.proc.pid]
        while todo:
            for c in children.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out

    def stop(self) -> list[str]:
        """Stop the server and its kernels; return problems (empty if all went well)."""
        problems = []
        if self.proc is None:
            return problems
        descendants = self._descendants()
        if self.proc.poll() is None:
            try:  # polite: the server shuts its kernels down
                req = urllib.request.Request(
                    f"{self.base}/api/shutdown", method="POST",
                    headers={"Authorization": f"token {self.token}"})
                urllib.request.urlopen(req, timeout=5).close()
            except (urllib.error.URLError, OSError):
                pass
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for pid in descendants:  # kernels left behind, by their id
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            problems.append(f"JupyterLab server (pid {self.proc.pid}) did not stop")
        if self.log:
            self.log.close()
        deadline = time.monotonic() + 10
        while not port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not port_is_free(self.port):
            problems.append(f"port {self.port} is still in use after stopping the server")
        return problems


# --------------------------------------------------------------------------------------------
# In-page helpers (window.jupyterapp is exposed with --LabApp.expose_app_in_browser)
# --------------------------------------------------------------------------------------------

JS_HELPERS = r"""
() => {
  if (window.__nmf) return;
  const app = window.jupyterapp;
  const panel = () => {
    const w = app.shell.currentWidget;
    return (w && w.content && w.sessionContext) ? w : null;
  };
  window.__nmf = {
    panel,
    ready: async (path) => {
      const p = panel();
      if (!p || p.context.path !== path) return false;
      await p.context.ready; await p.sessionContext.ready;
      return !!(p.sessionContext.session && p.sessionContext.session.kernel);
    },
    kernelStatus: () => { const p = panel(); return p ? p.sessionContext.kernelDisplayStatus : 'none'; },
    startRunAll: () => {
      const ids = ['notebook:restart-run-all', 'runmenu:restart-and-run-all'];
      const id = ids.find(i => app.commands.hasCommand(i));
      window.__nmfRun = {done: false, result: null, error: null, id};
      app.commands.execute(id).then(
        r => { window.__nmfRun.done = true; window.__nmfRun.result = r === undefined ? null : r; },
        e => { window.__nmfRun.done = true; window.__nmfRun.error = String(e); });
      return id;
    },
    runState: () => window.__nmfRun,
    running: () => {  // cheap enough to poll: the first code cell whose prompt shows [*]
      const p = panel(); let r = null;
      p.content.widgets.some((c, i) => {
        if (c.model.type === 'code' && c.promptNode && c.promptNode.textContent.includes('*')) { r = i + 1; return true; }
        return false;
      });
      return r;
    },
    cells: () => {
      const p = panel(); const out = [];
      p.content.widgets.forEach((c, i) => {
        if (c.model.type !== 'code') return;
        const prompt = c.promptNode ? c.promptNode.textContent.trim() : '';
        const outputs = c.model.outputs.toJSON();
        const errors = outputs.filter(o => o.output_type === 'error')
                              .map(o => `${o.ename}: ${o.evalue}`);
        out.push({index: i + 1, prompt, count: c.model.executionCount,
                  source: c.model.sharedModel.getSource().split('\n').filter(l => l.trim())[0] || '',
                  errors});
      });
      return out;
    },
    domProblems: (texts, tb) => {
      const p = panel(); if (!p) return ['no notebook panel'];
      const node = p.content.node; const found = [];
      for (const t of texts) if (node.textContent.includes(t)) found.push(`page shows "${t}"`);
      // @jupyter-widgets/base shows a broken-file icon ("Click to show javascript error.") for a
      // widget whose model or view cannot be created; a click reveals the error message.
      node.querySelectorAll('.jupyter-widgets-error-widget').forEach(el => {
        const box = el.parentElement;
        if (el.classList.contains('icon-error') && box) box.click();
        const msg = (box ? box.textContent : el.textContent).replace('Click to show javascript error.', '')
          .replace(/\[Open Browser Console[^\]]*\]/, '').replace(/\s+/g, ' ').trim();
        found.push(`widget failed to render: ${msg.slice(0, 200) || 'javascript error'}`);
      });
      node.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').forEach(el => {
        const txt = el.textContent;
        if (txt.includes(tb)) {
          const lines = txt.trim().split('\n').filter(l => l.trim());
          found.push(`traceback shown: ${lines[lines.length - 1].slice(0, 200)}`);
        }
      });
      return found;
    },
    ping: async (ms) => {
      const p = panel(); const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
      if (!k) return 'no kernel';
      const f = k.requestExecute({code: '1 + 1', silent: true, store_history: false});
      const t = new Promise(res => setTimeout(() => res('timeout'), ms));
      const r = await Promise.race([f.done.then(m => m.content.status), t]);
      return r;
    },
    shutdown: async () => {
      const p = panel(); if (!p) return;
      try { p.context.model.dirty = false; } catch (e) {}
      try { await p.sessionContext.shutdown(); } catch (e) {}
    },
    close: async () => {
      const p = panel(); if (!p) return false;
      try { p.context.model.dirty = false; } catch (e) {}
      try { await p.sessionContext.shutdown(); } catch (e) { return false; }
      p.dispose();
      return true;
    },
  };
}
"""

# Watch a figure element: record when its DOM last changed (an image replaced, an img decoded).
JS_WATCH = r"""
(el) => {
  // Watch a figure element: record when its DOM changes (an image replaced, an <img> decoded),
  // and the time of the first user input event (key, pointer, change) after this call: the
  // latency is measured from that event to the figure's last change.
  window.__nmfMut = [];
  window.__nmfInput = null;
  if (!window.__nmfInputHook) {
    window.__nmfInputHook = true;
    const mark = () => { if (window.__nmfInput === null) window.__nmfInput = performance.now(); };
    for (const t of ['keydown', 'pointerdown', 'mousedown', 'input', 'change'])
      document.addEventListener(t, mark, true);
  }
  if (window.__nmfObs) window.__nmfObs.disconnect();
  const rec = () => window.__nmfMut.push(performance.now());
  window.__nmfObs = new MutationObserver(rec);
  window.__nmfObs.observe(el, {subtree: true, childList: true, attributes: true, characterData: true});
  el.addEventListener('load', rec, true);
  return performance.now();
}
"""

JS_CONTROL_KIND = r"""
(el) => {
  if (el.querySelector('.noUi-handle')) return 'slider';
  if (el.querySelector('input[type=range]')) return 'range';
  if (el.matches('button.widget-toggle-button, .widget-toggle-button') || el.tagName === 'BUTTON') return 'button';
  if (el.querySelector('input[type=checkbox]')) return 'checkbox';
  if (el.querySelector('select')) return 'select';
  if (el.matches('.widget-toggle-buttons') || el.querySelector('.widget-toggle-buttons')) return 'togglebuttons';
  if (el.querySelector('input[type=radio]')) return 'radio';
  if (el.querySelector('input[type=number], input[type=text]')) return 'text';
  return 'unknown';
}
"""


# --------------------------------------------------------------------------------------------
# One notebook
# --------------------------------------------------------------------------------------------

def wait_for(fn, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def accept_dialog(page, timeout: float) -> bool:
    btn = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    try:
        btn.first.wait_for(state="visible", timeout=timeout * 1000)
    except Exception:
        return False
    btn.first.click()
    return True


def has_graphic(loc) -> bool:
    return loc.locator("img, canvas, svg").count() > 0


def stable_shot(loc, timeout: float = 10.0) -> bytes:
    prev = loc.screenshot(animations="disabled")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        cur = loc.screenshot(animations="disabled")
        if cur == prev:
            return cur
        prev = cur
    return prev


def change_control(page, ctl) -> str:
    """Change `ctl` as a user would; return a description of what was done."""
    kind = ctl.evaluate(JS_CONTROL_KIND)
    desc = ctl.locator(".widget-label").first
    label = desc.inner_text().strip() if desc.count() else ""
    name = f"{kind}{' ' + repr(label) if label else ''}"
    if kind == "slider":
        readout = ctl.locator(".widget-readout").first
        before = readout.inner_text() if readout.count() else None
        handle = ctl.locator(".noUi-handle").first
        now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
        at_max = now is not None and top is not None and float(now) >= float(top)
        handle.focus()
        handle.press("ArrowLeft" if at_max else "ArrowRight")  # one step, as a keyboard user would
        after = None
        if before is not None:
            wait_for(lambda: readout.inner_text() != before, 5, 0.05)
            after = readout.inner_text()
        return f"{name} {before} -> {after}" if before is not None else name
    if kind == "range":
        ctl.locator("input[type=range]").first.press("ArrowRight")
        return name
    if kind == "button":
        btn = ctl if ctl.evaluate("e => e.tagName") == "BUTTON" else ctl.locator("button").first
        text = btn.inner_text().strip()
        btn.click()
        return f"toggle {text!r}" if text else name
    if kind == "checkbox":
        ctl.locator("input[type=checkbox]").first.click()
        return name
    if kind == "select":
        sel = ctl.locator("select").first
        n = sel.evaluate("s => s.options.length")
        i = sel.evaluate("s => s.selectedIndex")
        sel.select_option(index=(i + 1) % max(n, 1))
        return f"{name} option {i} -> {(i + 1) % max(n, 1)}"
    if kind == "togglebuttons":
        ctl.locator("button:not(.mod-active)").first.click()
        return name
    if kind == "radio":
        ctl.locator("input[type=radio]:not(:checked)").first.click()
        return name
    raise RuntimeError(f"do not know how to change a control of kind {kind!r}")


JS_GROUPS = r"""
() => {
  // One group per cell holding a control or a Run button: its first control (or its Run button),
  // the Run button to click after the control, and the figure it drives (the first nmfedu-figure
  // in the same cell, else the first one after the control in the page).
  const root = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook') ||
               document.querySelector('.jp-Notebook');
  const controls = [...root.querySelectorAll('.nmfedu-control')];
  const figures = [...root.querySelectorAll('.nmfedu-figure')];
  const runs = [...root.querySelectorAll('.nmfedu-run')];
  const groups = []; const seen = new Set();
  for (const el of [...controls, ...runs].sort((a, b) =>
         a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1)) {
    const cell = el.closest('.jp-Cell');
    if (!cell || seen.has(cell)) continue;
    seen.add(cell);
    const ctl = controls.find(c => cell.contains(c));
    const run = runs.find(r => cell.contains(r));
    const first = ctl || run;
    let fig = figures.find(f => cell.contains(f));
    if (!fig) fig = figures.find(f => first.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING);
    groups.push({control: ctl ? controls.indexOf(ctl) : null, run: run ? runs.indexOf(run) : null,
                 figure: fig ? figures.indexOf(fig) : null});
  }
  return {controls: controls.length, figures: figures.length, runs: runs.length, groups};
}
"""


def check_widgets(page, res: Result, args) -> object | None:
    """For every cell with widgets: move its first control (then click its Run button, if any),
    or click Run alone; wait for the figure to change. Returns the first figure checked."""
    scope = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
    controls = page.locator(f"{scope} .nmfedu-control")
    figures = page.locator(f"{scope} .nmfedu-figure")
    runs = page.locator(f"{scope} .nmfedu-run")
    info = page.evaluate(JS_GROUPS)
    res.n_controls, res.n_figures, res.n_runs = info["controls"], info["figures"], info["runs"]
    if not info["groups"]:
        if res.n_figures:
            res.fail(f"{res.n_figures} nmfedu-figure element(s) but no nmfedu-control / nmfedu-run")
        return None
    first_fig = None
    changes = []
    for k, g in enumerate(info["groups"][: args.max_groups]):
        if g["figure"] is None:
            res.fail(f"widget group {k + 1}: no element with class nmfedu-figure to check")
            continue
        fig = figures.nth(g["figure"])
        first_fig = first_fig or fig
        ctl = controls.nth(g["control"]) if g["control"] is not None else None
        run = runs.nth(g["run"]) if g["run"] is not None else None
        desc, latency = check_group(page, res, args, fig, ctl, run, k + 1)
        changes.append(f"{desc} ({latency:.0f} ms)" if latency is not None else desc)
        if latency is not None:
            res.latencies.append(latency)
    res.changed = "; ".join(changes) or "-"
    if res.latencies:
        res.latency_ms = max(res.latencies)
    t1 = time.monotonic()
    status = page.evaluate("ms => window.__nmf.ping(ms)", int(args.change_budget * 1000))
    res.responsive_ms = (time.monotonic() - t1) * 1000
    if status != "ok":
        res.fail(f"kernel did not answer an execute request after the changes ({status})")
    return first_fig


def check_group(page, res: Result, args, fig, ctl, run, k: int) -> tuple[str, float | None]:
    """Change one control / click Run, wait until `fig` shows a new image; return (what, ms)."""
    fig.scroll_into_view_if_needed()
    if not wait_for(lambda: has_graphic(fig), args.change_budget):
        res.fail(f"widget group {k}: the nmfedu-figure shows no image (img/canvas/svg) after run-all")
        return "-", None
    before = stable_shot(fig)
    t0 = fig.evaluate(JS_WATCH)
    wall0 = time.monotonic()
    try:
        if ctl is not None:
            what = change_control(page, ctl)
            if run is not None:
                run.click()
                what += " + Run"
        else:
            run.click()
            what = "Run button"
    except Exception as e:  # noqa: BLE001 - report, don't crash the run
        res.fail(f"widget group {k}: could not change the control: {str(e).splitlines()[0]}")
        return "-", None

    # Poll until the figure differs from before and holds still for one more shot.
    deadline = wall0 + args.change_budget
    changed_at = None
    prev = None
    while time.monotonic() < deadline:
        cur = fig.screenshot(animations="disabled")
        if cur != before and not has_graphic(fig):
            # cleared for a redraw, or replaced by an error: stop early on an error
            probs = page.evaluate("([t, tb]) => window.__nmf.domProblems(t, tb)",
                                  [WIDGET_ERROR_TEXTS, TRACEBACK_TEXT])
            if probs:
                for p in probs:
                    res.fail(f"after {what}: {p}")
                return what, None
        if cur != before and has_graphic(fig):
            if prev is not None and cur == prev:
                break
            if changed_at is None:
                changed_at = time.monotonic()
        else:
            changed_at = None
        prev = cur
        time.sleep(0.15)
    else:
        res.fail(f"the figure did not change within {args.change_budget:.0f} s after: {what}")
        return what, None
    muts, t_in = page.evaluate("[window.__nmfMut, window.__nmfInput]")
    t0 = t_in if t_in is not None else t0
    last = [m for m in muts if m >= t0]
    latency = (max(last) - t0) if last else (changed_at - wall0) * 1000
    for p in page.evaluate("([t, tb]) => window.__nmf.domProblems(t, tb)", [WIDGET_ERROR_TEXTS, TRACEBACK_TEXT]):
        res.fail(f"after {what}: {p}")
    return what, latency


def open_notebook(context, server: Server, rel: str, args, tab: dict):
    """Open `rel` in the tab's JupyterLab page; load a page first if there is none. Reusing one
    page saves booting JupyterLab again (5-10 s per notebook on this machine)."""
    page = tab.get("page")
    if page is not None and not page.is_closed():
        page.evaluate("p => window.jupyterapp.commands.execute('docmanager:open', "
                      "{path: p, factory: 'Notebook'}).then(() => true)", rel)
        return page
    page = context.new_page()
    page.on("pageerror", lambda e: tab["errors"].append(str(e)))
    tab["page"] = page
    ws = "nmf" + secrets.token_hex(4)  # a fresh workspace: nothing restored from an earlier run
    page.goto(f"{server.base}/lab/workspaces/{ws}/tree/{rel}?token={server.token}",
              wait_until="domcontentloaded", timeout=args.load_budget * 1000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell",
                           timeout=args.load_budget * 1000)
    page.evaluate("() => window.jupyterapp.restored")
    page.evaluate(JS_HELPERS)
    return page


def close_page(tab: dict) -> None:
    page, tab["page"] = tab.get("page"), None
    if page is not None:
        try:
            page.close()
        except Exception:  # noqa: BLE001
            pass


def check_notebook(context, server: Server, rel: str, args, tab: dict) -> Result:
    res = Result(rel)
    t_start = time.monotonic()
    tab.setdefault("errors", []).clear()
    page = None
    healthy = False
    try:
        page = open_notebook(context, server, rel, args, tab)

        def ready():
            if page.locator(".jp-Dialog").count():  # e.g. a kernel selection dialog: take the default
                accept_dialog(page, 1)
            return page.evaluate("p => window.__nmf.ready(p)", rel)

        if not wait_for(ready, args.load_budget, 0.5):
            res.fail(f"notebook or its kernel not ready within {args.load_budget:.0f} s")
            return res

        # Restarting a kernel that is still starting up kills it mid-import, and the page can
        # lose its kernel connection (status "unknown", cells stuck at [*]): wait until the
        # notebook's first kernel is idle before "restart and run all".
        if not wait_for(lambda: page.evaluate("() => window.__nmf.kernelStatus()") == "idle",
                        args.load_budget, 0.25):
            status = page.evaluate("() => window.__nmf.kernelStatus()")
            res.fail(f"kernel not idle within {args.load_budget:.0f} s after opening (status {status})")
            return res

        cmd = page.evaluate("() => window.__nmf.startRunAll()")
        if not accept_dialog(page, 20):
            res.fail(f"no restart dialog after {cmd}")
        t_run = time.monotonic()

        # The executing cell is the first one whose prompt shows [*]; note how long each takes.
        current = {"index": None, "since": t_run}
        cell_times: dict[int, float] = {}

        def finished():
            running = page.evaluate("() => window.__nmf.running()")
            now = time.monotonic()
            if running != current["index"]:
                if current["index"] is not None:
                    cell_times[current["index"]] = now - current["since"]
                current.update(index=running, since=now)
            if running is not None and args.cell_budget and now - current["since"] > args.cell_budget:
                raise CellTimeout(running, now - current["since"])
            if running is not None or not page.evaluate("() => window.__nmf.runState()")["done"]:
                return False
            return page.evaluate("() => window.__nmf.kernelStatus()") == "idle"

        cell_timeout = None
        try:
            done = wait_for(finished, args.budget, 0.5)
        except CellTimeout as e:
            done, cell_timeout = False, e
        res.run_s = time.monotonic() - t_run
        if cell_times:
            i, t = max(cell_times.items(), key=lambda kv: kv[1])
            res.slowest = f"cell {i} {t:.1f} s"
        cells = page.evaluate("() => window.__nmf.cells()")
        if not done:
            running = [c for c in cells if "*" in c["prompt"]]
            where = "; ".join(f"cell {c['index']} ({c['source'][:60]!r})" for c in running[:3]) or \
                f"kernel {page.evaluate('() => window.__nmf.kernelStatus()')}"
            if cell_timeout is not None:
                res.fail(f"still running after the {args.cell_budget:.0f} s cell budget: {where}")
            else:
                res.fail(f"still running after the {args.budget:.0f} s run-all budget: {where}")
        st = page.evaluate("() => window.__nmf.runState()")
        if st.get("error"):
            res.fail(f"{st['id']} failed: {st['error']}")
        for c in cells:
            for e in c["errors"]:
                res.fail(f"error output in cell {c['index']} ({c['source'][:60]!r}): {e[:200]}")
        if done:
            not_run = [c for c in cells if c["count"] is None and c["source"]]
            if not_run and not any(c["errors"] for c in cells):
                res.fail(f"{len(not_run)} code cell(s) not executed, first: cell {not_run[0]['index']}")
        for p in page.evaluate("([t, tb]) => window.__nmf.domProblems(t, tb)", [WIDGET_ERROR_TEXTS, TRACEBACK_TEXT]):
            if not any(p.startswith("traceback") and c["errors"] for c in cells):
                res.fail(p)

        fig = None
        if done:
            fig = check_widgets(page, res, args)
        shot = BUILD / (Path(rel).stem + ".png")
        try:
            if fig is not None:
                fig.scroll_into_view_if_needed(timeout=5000)
            page.screenshot(path=str(shot), timeout=30000)
            res.screenshot = str(shot.relative_to(REPO))
        except Exception as e:  # noqa: BLE001
            res.problems.append(f"(screenshot failed: {e})")
        healthy = True
    except Abort:
        raise
    except Exception as e:  # noqa: BLE001 - one broken notebook must not stop the others
        res.fail(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    finally:
        closed = False
        if page is not None and healthy:
            try:  # shut the kernel down and close the notebook without saving
                closed = page.evaluate("() => window.__nmf.close()")
            except Exception:  # noqa: BLE001
                closed = False
        if not closed:  # start the next notebook in a fresh page
            if page is not None:
                try:
                    page.evaluate("() => window.__nmf && window.__nmf.shutdown()")
                except Exception:  # noqa: BLE001
                    pass
            close_page(tab)
        res.total_s = time.monotonic() - t_start
        if not res.ok and tab["errors"]:
            res.problems.append(f"(browser errors: {'; '.join(tab['errors'][:3])[:300]})")
    return res


# --------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to test (default: notebooks/[0-9]*.ipynb)")
    ap.add_argument("--budget", type=float, default=float(os.environ.get("NMFEDU_BROWSER_BUDGET", 300)),
                    help="seconds allowed for Restart Kernel and Run All Cells, per notebook (300; "
                         "06 and 08 took 180 s on the shared 2-core machine under load)")
    ap.add_argument("--cell-budget", type=float, default=float(os.environ.get("NMFEDU_BROWSER_CELL_BUDGET", 0)),
                    help="seconds allowed for any one cell (default 0: only the run-all budget applies)")
    ap.add_argument("--change-budget", type=float, default=float(os.environ.get("NMFEDU_BROWSER_CHANGE_BUDGET", 60)),
                    help="seconds allowed for a figure to change after a control moves (60; "
                         "07's Run took 28 s on a busy machine)")
    ap.add_argument("--max-groups", type=int, default=20,
                    help="check at most this many widget cells per notebook (20)")
    ap.add_argument("--load-budget", type=float, default=90,
                    help="seconds allowed to open a notebook and start its kernel (90)")
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("NMFEDU_BROWSER_TIMEOUT", 3600)),
                    help="overall timeout in seconds (3600)")
    ap.add_argument("--keep-scratch", action="store_true", help="keep build/browser/scratch-* for debugging")
    ap.add_argument("--self-test", action="store_true",
                    help="run the fixtures in tests/browser/fixtures and check that each passes or "
                         "fails for its own reason (short budgets; about 3 minutes)")
    args = ap.parse_args(argv)

    os.chdir(REPO)
    if args.self_test:
        args.notebooks = [f"tests/browser/fixtures/{name}" for name in SELF_TEST]
        args.budget, args.cell_budget, args.change_budget = 40, 15, 20
    paths = args.notebooks or sorted(glob.glob("notebooks/[0-9]*.ipynb"))
    if not paths:
        print("no notebooks to test")
        print("0 passed, 1 failed")
        return 1
    notebooks = [Path(p) for p in paths]
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        print(f"not found: {', '.join(missing)}")
        print(f"0 passed, {len(notebooks)} failed")
        return 1
    if not os.access(CHROMIUM, os.X_OK):
        print(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium); "
              "Playwright's own browser download does not work here")
        print(f"0 passed, {len(notebooks)} failed")
        return 1
    from playwright.sync_api import sync_playwright

    BUILD.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scratch-", dir=BUILD))

    def on_signal(signum, _frame):
        raise Abort(f"signal {signal.Signals(signum).name}" if signum != signal.SIGALRM
                    else f"overall timeout of {args.timeout:.0f} s")

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)}
    signal.alarm(int(args.timeout))
    results: list[Result] = []
    extra: list[str] = []
    server = Server(scratch, scratch / "jupyterlab.log")
    t0 = time.monotonic()
    try:
        rels = prepare_scratch(scratch, notebooks)
        server.start()
        print(f"JupyterLab on 127.0.0.1:{server.port} (log: build/browser/jupyterlab.log), "
              f"ready in {time.monotonic() - t0:.1f} s", flush=True)
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(scratch / "chromium-profile"), executable_path=CHROMIUM, headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
            )
            tab: dict = {"page": None, "errors": []}
            try:
                for rel in rels:
                    r = check_notebook(context, server, rel, args, tab)
                    results.append(r)
                    print(r.line(), flush=True)
            finally:
                try:
                    context.close()
                except Exception:  # noqa: BLE001
                    pass
    except Abort as e:
        extra.append(f"aborted: {e}")
    except Exception as e:  # noqa: BLE001
        extra.append(f"{type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        for s in (signal.SIGTERM, signal.SIGINT):  # finish cleaning up before obeying
            signal.signal(s, signal.SIG_IGN)
        extra += server.stop()
        if server.log_path.exists():  # keep the server's log of the last run for review
            shutil.copy(server.log_path, BUILD / "jupyterlab.log")
        if not args.keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        for s, h in old.items():
            signal.signal(s, h)

    for msg in extra:
        print(f"ERROR {msg}")
    passed = sum(r.ok for r in results)
    failed = len(notebooks) - passed
    if extra and failed == 0:
        failed = 1
    print(f"browser test took {time.monotonic() - t0:.1f} s")
    if args.self_test:
        return self_test_verdict(results, extra)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and not extra else 1


# Fixture -> None if it must pass, else a text one of its failure messages must contain.
SELF_TEST = {
    "widget_demo.ipynb": None,
    "error_cell.ipynb": "error output in cell 3",
    "dead_slider.ipynb": "did not change",
    "callback_error.ipynb": "traceback shown: RuntimeError",
    "broken_widget.ipynb": "widget failed to render",
    "slow_cell.ipynb": "cell budget",
}


def self_test_verdict(results: list[Result], extra: list[str]) -> int:
    by_name = {Path(r.path).name: r for r in results}
    bad = []
    for name, expect in SELF_TEST.items():
        r = by_name.get(name)
        if r is None:
            bad.append(f"{name}: not run")
        elif expect is None and not r.ok:
            bad.append(f"{name}: should pass")
        elif expect is not None and (r.ok or not any(expect in p for p in r.problems)):
            bad.append(f"{name}: should fail with {expect!r}")
    for b in bad:
        print(f"SELF-TEST ERROR {b}")
    failed = len(bad) + (1 if extra else 0)
    print(f"{len(SELF_TEST) - len(bad)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
