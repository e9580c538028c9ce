"""The exported slide decks in a real browser: headless Chromium driven by Selenium (Debian's chromium and
chromium-driver; CI installs them in .ci/run).

Two decks are opened in full (the welcome lecture: title, tables, the animated battle replay; the Q-learning
lecture: equations and plots) plus one student deck; every other deck gets the HTML-only checks. In the
browser: the slide count equals what the notebook's metadata asks for, no slide shows a traceback or raw
markdown (``##``, ``$$``, ``**``, unrendered TeX), no slide is taller than the deck, MathJax reports no error, the console has no error, no
request leaves the machine (host names resolve nowhere, and the request log holds only file/data URLs), and
the replay animation advances when its play button is pressed. PNGs of a title slide and a plot slide go to
``build/slides/shots/``.

Decks come from ``build/slides/`` when ``make slides`` wrote them after the notebooks last changed and the
notebooks carry slide metadata; otherwise the test annotates copies of ``solutions/``, generates the student
copies and exports everything into a temporary folder.
"""
from __future__ import annotations

import base64
import json
import re
import shutil
import time
from pathlib import Path

import pytest

from course_lib.tools import slides as S
from course_lib.tools.make_exercises import make_student_notebook

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "build" / "slides" / "shots"
FULL = ["00_welcome.slides.html", "01_q_learning.slides.html", "00_welcome.student.slides.html"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None or webdriver is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver) and "
           "selenium (requirements.txt); .ci/run installs them",
)

LOCAL_URL = re.compile(r"^(file|data|blob|about|chrome-extension|devtools):")


def _fresh(out: Path, sources) -> bool:
    index = out / "index.html"
    return index.exists() and all(index.stat().st_mtime >= p.stat().st_mtime for p in sources)


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """(folder, {deck file: source notebook dict}) for every notebook of solutions/ and notebooks/."""
    solutions = sorted((REPO / "solutions").glob("*.ipynb"))
    students = sorted((REPO / "notebooks").glob("*.ipynb"))
    stored = {p: json.loads(p.read_text(encoding="utf-8")) for p in solutions + students}
    built = REPO / "build" / "slides"
    sources = {}
    if all(S.is_annotated(nb) for nb in stored.values()) and _fresh(built, list(stored)):
        for p, nb in stored.items():
            kind = ".student.slides.html" if p.parent.name == "notebooks" else ".slides.html"
            sources[p.stem + kind] = nb
        return built, sources
    tmp = tmp_path_factory.mktemp("slides")
    (tmp / "solutions").mkdir()
    (tmp / "notebooks").mkdir()
    for p in solutions:
        ann = S.annotate_notebook(stored[p], name=p.name)
        (tmp / "solutions" / p.name).write_text(json.dumps(ann), encoding="utf-8")
        student = make_student_notebook(ann, name=p.name)
        (tmp / "notebooks" / p.name).write_text(json.dumps(student), encoding="utf-8")
        sources[p.stem + ".slides.html"] = ann
        sources[p.stem + ".student.slides.html"] = student
    try:
        S.export_all(tmp / "out", tmp / "solutions", tmp / "notebooks", log=lambda *_: None)
    except S.SlideError as exc:
        pytest.skip(f"cannot export the decks: {exc}")
    return tmp / "out", sources


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,720", "--hide-scrollbars", "--allow-file-access-from-files",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # a 1280x720 viewport, the deck's size
                           {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False})
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def test_every_deck_is_offline_html(decks):
    folder, sources = decks
    assert sorted(p.name for p in folder.glob("*.slides.html")) == sorted(sources)
    for name in sources:
        text = (folder / name).read_text(encoding="utf-8")
        assert S.remote_resources(text) == [], f"{name} loads something from the internet"
        for src in re.findall(r"""<script[^>]*\ssrc=["']([^"']+)""", text):
            assert (folder / src).is_file(), f"{name}: script {src} is missing next to the deck"
        assert "Traceback (most recent call last)" not in text, f"{name} shows a traceback"
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}"' in index for name in sources)


def _open(driver, path: Path):
    driver.get_log("performance")  # drop earlier entries
    driver.get_log("browser")
    driver.get(path.as_uri())
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => (window.Reveal && Reveal.isReady() && window.MathJax && MathJax.startup
                            && MathJax.startup.promise) ? MathJax.startup.promise.then(() => done(true))
                                                        : setTimeout(wait, 50);
        wait();""")


LEAK_JS = """
const out = [];
const slides = [...document.querySelectorAll('.reveal .slides section')].filter(s => !s.querySelector('section'));
slides.forEach((s, i) => {
  s.querySelectorAll('.jp-MarkdownOutput').forEach(m => {
    if (m.closest('aside.notes')) return;
    const t = m.innerText;
    if (/^\\s*#{1,6}\\s/m.test(t) || t.includes('$$') || /\\*\\*\\S/.test(t) || /\\\\(frac|mathbf|sum|gamma)\\b/.test(t))
      out.push(`slide ${i + 1}: raw markdown/TeX: ${t.slice(0, 80)}`);
  });
  s.querySelectorAll('.jp-OutputArea-output').forEach(o => {
    // a raised exception (IPython's traceback), or an error written to stderr; printed text on stdout is fine
    const stderr = o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr';
    if (/Traceback \\(most recent call last\\)/.test(o.innerText) || (stderr && /^\\w*(Error|Exception): /m.test(o.innerText)))
      out.push(`slide ${i + 1}: error output: ${o.innerText.slice(0, 80)}`);
  });
  if (s.querySelector('mjx-merror')) out.push(`slide ${i + 1}: MathJax error`);
});
return out;
"""


@pytest.mark.parametrize("name", FULL)
def test_deck_in_chromium(decks, browser, name):
    folder, sources = decks
    nb = sources[name]
    _open(browser, folder / name)
    assert browser.execute_script("return Reveal.getTotalSlides()") == S.count_slides(nb)
    assert browser.execute_script(LEAK_JS) == []
    heights = browser.execute_script("""
        const leaves = [...document.querySelectorAll('.reveal .slides section')].filter(s => !s.querySelector('section'));
        return leaves.map(s => { const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v);
                                 return Reveal.getCurrentSlide().scrollHeight; });""")
    deck_height = browser.execute_script("return Reveal.getConfig().height")
    tall = [(i + 1, h) for i, h in enumerate(heights) if h > deck_height]
    assert tall == [], f"{name}: slides taller than the deck ({deck_height} px): {tall}"
    if "01_q_learning" in name:
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 20
    requests = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"}
    remote = sorted(u for u in urls if not LOCAL_URL.match(u))
    assert remote == [], f"{name} asked the network for {remote}"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], f"{name}: console errors {errors}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = name.replace(".slides.html", "").replace(".", "_")
    browser.execute_script("Reveal.slide(0, 0)")
    time.sleep(0.3)
    browser.save_screenshot(str(SHOTS / f"{stem}_title.png"))
    if S.is_student(nb):  # no outputs; the exercises appear as stubs, never solved
        text = browser.execute_script("return document.querySelector('.reveal .slides').textContent")
        assert "NotImplementedError" in text and "BEGIN SOLUTION" not in text
        assert browser.execute_script("return document.querySelectorAll('.jp-OutputArea-output').length") == 0
        return
    plot = browser.execute_script("""
        const img = document.querySelector('.reveal .slides section .jp-OutputArea-output img');
        if (!img) return null;
        const idx = Reveal.getIndices(img.closest('section'));
        Reveal.slide(idx.h, idx.v);
        return [idx.h, idx.v];""")
    assert plot is not None, f"{name}: no slide shows a picture"
    time.sleep(0.5)
    browser.save_screenshot(str(SHOTS / f"{stem}_plot.png"))


def test_replay_animation_plays(decks, browser):
    """The battle replay is an animated GIF embedded in the deck: it is decoded and shown offline, with many frames."""
    folder, _ = decks
    _open(browser, folder / "00_welcome.slides.html")
    found = browser.execute_script("""
        const img = [...document.querySelectorAll('.reveal .slides img')].find(i => i.src.startsWith('data:image/gif'));
        if (!img) return null;
        const idx = Reveal.getIndices(img.closest('section'));
        Reveal.slide(idx.h, idx.v);
        return img.src;""")
    assert found is not None, "no animated replay (GIF) in the welcome deck"
    time.sleep(0.5)
    shown = browser.execute_script("""
        const img = [...document.querySelectorAll('.reveal .slides img')].find(i => i.src.startsWith('data:image/gif'));
        return [img.complete, img.naturalWidth, img.getBoundingClientRect().width];""")
    assert shown[0] and shown[1] > 100 and shown[2] > 100, f"the replay GIF is not displayed: {shown}"
    gif = base64.b64decode(found.split(",", 1)[1])
    assert gif[:6] in (b"GIF87a", b"GIF89a")
    frames = gif.count(b"\x21\xf9\x04")  # one graphic control extension per frame
    assert frames >= 10, f"the replay has {frames} frames"


def test_print_handout(decks, browser):
    """``?print-pdf``: reveal.js lays out one page per slide and the browser prints them to a PDF."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    folder, sources = decks
    name = "00_welcome.slides.html"
    browser.get((folder / name).as_uri() + "?print-pdf")
    pages = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => (window.Reveal && Reveal.isReady() && document.querySelector('.pdf-page'))
            ? setTimeout(() => done(document.querySelectorAll('.pdf-page').length), 300) : setTimeout(wait, 50);
        wait();""")
    assert pages == S.count_slides(sources[name])
    options = PrintOptions()
    options.orientation = "landscape"
    options.background = True
    pdf = base64.b64decode(browser.print_page(options))
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= pages
