"""The explorer in a real browser: JupyterLab on 127.0.0.1, driven by headless Chromium through Playwright.

Debian's chromium package provides the browser (Playwright's own browser download is not used). Where
Chromium or Playwright is missing, the test skips and says why; .ci/run installs Chromium where it can.
"""
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # JupyterLab and a browser

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]
EXPLORER_NOTEBOOK = '''\
from conae.data import load_data
from conae.explore import explore
from conae.model import ConvAE
from tests.conftest import write_split

write_split("data", "train", 60, seed=1, gz=True)
write_split("data", "t10k", 40, seed=2, gz=True)
train, test = load_data("data", download=False)
explorer = explore(ConvAE(3), train, test)
print(f"z1 from {explorer.sliders[0].min:.4f} to {explorer.sliders[0].max:.4f}")
explorer'''


def chromium():
    """The path of a Chromium (Debian's chromium package), or skip saying why."""
    path = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium chromium-driver)")
    pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """(base URL with token, notebook folder) of a JupyterLab server on 127.0.0.1, shared by this module's tests
    (the explorer's and the pad's), stopped afterwards."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    root = tmp_path / "notebooks"
    root.mkdir()
    server = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                               f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                               "--ServerApp.port_retries=0", "--allow-root", "--LabApp.news_url=",
                               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                               "--LabApp.extension_manager=readonly"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {server.stderr.read()[-2000:]}")
                time.sleep(0.5)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_for_idle_kernel(base, token, timeout=60):
    """Waits until the notebook's kernel is started, connected to the page, and idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as response:
            kernels = json.loads(response.read())
        if kernels and all(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            time.sleep(1)  # the page's own connection settles just after the server's
            return
        time.sleep(0.5)
    pytest.fail("the notebook's kernel did not start")


def open_notebook(page, base, token, root, name, cells):
    """Writes a notebook of these cells, opens it in JupyterLab and waits for its kernel; its cells' locator."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in cells],
                                metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}), root / name)
    for session in json.loads(urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10).read()):
        # an earlier test's notebook and kernel, shut down: only this notebook's kernel is waited for
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}",
                                                      method="DELETE"), timeout=30)
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}")  # reset: no tab of an earlier test reopened
    cells = page.locator(".jp-Notebook:visible .jp-Cell")
    cells.first.wait_for(timeout=60_000)
    wait_for_idle_kernel(base, token)  # a cell run before the kernel is connected is dropped
    return cells


def run_cell(page, cell):
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


@contextlib.contextmanager
def browser_page():
    """A page of headless Chromium (Debian's), closed afterwards."""
    executable = chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


PAD_NOTEBOOK = """\
from conae import draw
pad = draw()
pad"""
SAVE_THE_PAD = 'pad.save("drawn.png")\nprint("saved", len(pad.strokes), "strokes")'


@pytest.fixture(scope="module")
def notebook_page(jupyterlab):
    """(page, cells, notebook folder): one notebook in JupyterLab, shared by this module's tests (one kernel, one
    page): the explorer, the pad, saving the pad's drawing, each run by the test that needs it."""
    base, token, root = jupyterlab
    with browser_page() as page:
        yield page, open_notebook(page, base, token, root, "widgets.ipynb",
                                  [EXPLORER_NOTEBOOK, PAD_NOTEBOOK, SAVE_THE_PAD]), root


def test_moving_a_slider_redraws_the_decoded_character_in_jupyterlab(notebook_page, tmp_path):
    page, cells, _ = notebook_page
    run_cell(page, cells.nth(0))  # the explorer appears below it
    decoded = page.locator("img.conae-decoded")
    try:
        decoded.wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "failed.png"))
        outputs = page.locator(".jp-OutputArea").all_inner_texts()
        raise AssertionError(f"no explorer appeared; the cell's output: {outputs} "
                             f"(screenshot: {tmp_path / 'failed.png'})") from None
    page.wait_for_function("document.querySelector('img.conae-decoded').naturalWidth > 0", timeout=30_000)
    before_src, before = decoded.get_attribute("src"), decoded.screenshot()

    printed = page.locator(".jp-OutputArea-output pre").filter(has_text="z1 from").inner_text()
    low, high = map(float, printed.split("z1 from ")[1].split()[::2])
    readout = page.locator(".conae-z1 .widget-readout")
    value = float(readout.inner_text().replace("\u2212", "-"))  # the readout writes a true minus sign
    readout.click()
    page.wait_for_function("document.activeElement.classList.contains('widget-readout')", timeout=30_000)
    # fill replaces the readout's own text in one step, with no keyboard shortcut that JupyterLab could also read
    readout.fill(f"{low if value > (low + high) / 2 else high:.4f}")  # the far end of the range
    readout.press("Enter")
    try:
        page.wait_for_function(f"document.querySelector('img.conae-decoded').src !== {before_src!r}",
                               timeout=30_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "failed.png"))
        raise AssertionError(f"the decoded image kept its source after z1 was set; the readout shows "
                             f"{readout.inner_text()!r} (screenshot: {tmp_path / 'failed.png'})") from None
    page.wait_for_function("document.querySelector('img.conae-decoded').complete", timeout=30_000)
    after = decoded.screenshot()
    assert after != before, "the decoded image did not change when z1 moved"
    assert float(readout.inner_text().replace("\u2212", "-")) != value


# a 4 written in two strokes, as many write it, in the pad's pixels: the corner, then the stem
FOUR = [[(80, 40), (60, 140), (150, 140)], [(125, 60), (125, 200)]]


def test_writing_on_the_pad_shows_the_vote_recognise_gives_and_undo_and_clear_work(notebook_page, tmp_path, capsys):
    from conae.cli import main

    page, cells, root = notebook_page
    run_cell(page, cells.nth(1))
    canvas = page.locator("canvas.conae-pad, .conae-pad canvas").last
    try:
        canvas.wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(tmp_path / "failed.png"))
        raise AssertionError(f"no pad appeared; the cell's output: "
                             f"{page.locator('.jp-OutputArea').all_inner_texts()}") from None
    vote = page.locator(".conae-pad-vote")
    vote.filter(has_text="The pad is empty").wait_for(timeout=30_000)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in FOUR:  # written with the mouse, a few moves per segment
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        page.mouse.up()
    page.locator(".conae-pad-strokes").filter(has_text="2 strokes").wait_for(timeout=30_000)
    shown = page.locator(".conae-pad-character")
    text = page.locator(".conae-pad-text").inner_text()
    characters = shown.all_inner_texts()

    run_cell(page, cells.nth(2))
    page.locator(".jp-OutputArea-output pre").filter(has_text="saved 2 strokes").wait_for(timeout=30_000)
    output = cells.nth(1).locator(".jp-OutputArea")
    output.screenshot(path=str(tmp_path / "pad.png"))
    if os.environ.get("CONAE_PAD_SCREENSHOT"):  # the README's picture (docs/reproduce.md)
        output.screenshot(path=os.environ["CONAE_PAD_SCREENSHOT"])

    capsys.readouterr()
    assert main(["recognise", str(root / "drawn.png"), "--json"]) == 0
    reading, = json.loads(capsys.readouterr().out)
    assert text == reading["text"]
    assert len(characters) == len(reading["characters"])
    for n, (seen, read) in enumerate(zip(characters, reading["characters"])):
        assert seen.startswith(f"{n + 1}: {read['label']} with {read['votes']:.0%} of the 5 votes")

    page.locator(".conae-pad-undo").click()  # the stem goes: the corner alone is read
    page.locator(".conae-pad-strokes").filter(has_text="1 stroke").wait_for(timeout=30_000)
    run_cell(page, cells.nth(2))
    page.locator(".jp-OutputArea-output pre").filter(has_text="saved 1 strokes").wait_for(timeout=30_000)
    page.locator(".conae-pad-clear").click()
    vote.filter(has_text="The pad is empty").wait_for(timeout=30_000)
    run_cell(page, cells.nth(2))
    page.locator(".jp-OutputArea-output pre").filter(has_text="saved 0 strokes").wait_for(timeout=30_000)
