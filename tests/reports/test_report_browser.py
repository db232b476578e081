"""Open a generated report in headless Chromium and prove that every figure really loads.

The report is copied alone into an empty folder (no PNG beside it), a small script is injected
that, after the load event, writes each image's naturalWidth into a <pre>, and Chromium's
``--dump-dom`` output is parsed. A deliberately broken image is injected as a control, so the
check is seen to tell a loaded image from a broken one.
"""
import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from rnnkit.reports import Figure, plot_confusion, plot_curves, write_run_report

from ._support import make_history

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome"))), None)

PROBE = """
<img id="control" src="data:image/png;base64,AAAA" alt="broken on purpose">
<script>
window.addEventListener("load", () => {
  const widths = Array.from(document.images, img => [img.id, img.complete, img.naturalWidth]);
  const out = document.createElement("pre");
  out.id = "image-check";
  out.textContent = JSON.stringify(widths);
  document.body.appendChild(out);
});
</script>
"""


def dump_dom(page, profile) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
               "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found")
def test_report_images_load_in_chromium(tmp_path):
    made = tmp_path / "run"
    curves = plot_curves(make_history(), made / "curves.png")
    cm = plot_confusion(np.array([[5, 1], [2, 7]]), ["yes", "no"], made / "confusion.png")
    report = write_run_report(made / "report.html", "Browser check",
                              metrics={"test_accuracy": 0.8}, config={"cell": "lstm"},
                              figures=[Figure(curves, "curves"), Figure(cm, "confusion")])

    alone = tmp_path / "elsewhere"
    alone.mkdir()
    page = alone / "report.html"
    page.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")

    dom = dump_dom(page, tmp_path / "profile")
    found = re.search(r'<pre id="image-check">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run; DOM starts {dom[:300]!r}"
    images = json.loads(html.unescape(found.group(1)))

    figures = [img for img in images if img[0] != "control"]
    control = [img for img in images if img[0] == "control"]
    assert len(figures) == 2
    assert all(complete and width > 0 for _, complete, width in figures), images
    assert control and control[0][2] == 0  # the probe does see a broken image
