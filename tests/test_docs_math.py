"""The built documentation renders its formulas offline, checked in a headless browser.

The docs bundle MathJax (docs/conf.py copies it into ``_static/mathjax/``)
instead of loading it from a CDN, so a site opened without a network shows
typeset formulas, not raw LaTeX such as ``\\(e_u^\\top e_i\\)``.

The checks of a built site run when ``GNNREC_DOCS_HTML`` names its folder::

    sphinx-build -b html docs /tmp/html
    GNNREC_DOCS_HTML=/tmp/html python -m pytest tests/test_docs_math.py

They open pages in headless Chromium (Debian's ``chromium-headless-shell`` or
``chromium``; ``GNNREC_CHROMIUM`` names another binary) with every host name
unresolvable, so nothing can come from the network, and read the DOM after
the scripts ran. Without a browser they are skipped, unless
``GNNREC_REQUIRE_BROWSER=1`` (as in .ci/run, which installs one): then they
fail. ``GNNREC_DOCS_SCREENSHOT=<file.png>`` also saves a screenshot of the
Heads page. The checker itself is tested on fixed HTML without a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

#: Pages whose formulas are checked in the browser (the Heads page first).
PAGES = ["user_guide/heads.html", "user_guide/tasks.html", "user_guide/encoders.html"]
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome",
            "google-chrome-stable")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}


# --------------------------------------------------------------------------- the checker
@dataclass
class Formula:
    """One Sphinx math element (``<span|div class="math">``) of a page."""

    tag: str
    rendered: bool = False  # holds an <mjx-container> with an <svg>
    raw_text: str = ""  # text outside MathJax's output: the LaTeX when not typeset


@dataclass
class MathScan:
    formulas: list[Formula] = field(default_factory=list)
    errors: int = 0  # MathJax error nodes (an unknown macro, a parse error)

    @property
    def unrendered(self) -> list[Formula]:
        return [f for f in self.formulas if not f.rendered or f.raw_text.strip()]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = MathScan()
        self.stack: list[str] = []
        self.current: Formula | None = None
        self.math_depth = -1  # stack depth of the open math element
        self.mjx_depth = -1  # stack depth of the open <mjx-container>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("data-mml-node") == "merror" or "data-mjx-error" in values:
            self.scan.errors += 1
        if self.current is not None:
            if tag == "mjx-container" and self.mjx_depth < 0:
                self.mjx_depth = len(self.stack)
            elif tag == "svg" and self.mjx_depth >= 0:
                self.current.rendered = True
        elif "math" in (values.get("class") or "").split() and tag in ("span", "div"):
            self.current = Formula(tag)
            self.scan.formulas.append(self.current)
            self.math_depth = len(self.stack)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while self.stack:
            if self.stack.pop() == tag:
                break
        depth = len(self.stack)
        if self.mjx_depth >= 0 and depth <= self.mjx_depth:
            self.mjx_depth = -1
        if self.current is not None and depth <= self.math_depth:
            self.current, self.math_depth = None, -1

    def handle_data(self, data: str) -> None:
        if self.current is not None and self.mjx_depth < 0:
            self.current.raw_text += data


def scan_math(html: str) -> MathScan:
    """The Sphinx math elements of a page and whether MathJax typeset each one."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.scan


def mathjax_sources(html: str) -> list[str]:
    """The ``src`` of every script of a page that loads MathJax."""
    return [m.group(1) for m in re.finditer(r"<script[^>]*\ssrc=\"([^\"]*)\"", html)
            if "mathjax" in m.group(1).lower() or "tex-" in m.group(1).lower()]


RAW = """<p>A head turns <span class="math notranslate nohighlight">\\(e_u, e_i\\)</span> into</p>
<div class="math notranslate nohighlight">\\[\\hat r(u, i) = \\sigma(s)\\]</div>"""
TYPESET = """<p>A head turns <span class="math notranslate nohighlight"><mjx-container
class="MathJax" jax="SVG"><svg viewBox="0 0 1 1"><g data-mml-node="math"><path d="M0"/>
</g></svg><mjx-assistive-mml><math><mi>e</mi></math></mjx-assistive-mml></mjx-container>
</span> into<br></p><div class="math notranslate nohighlight"><mjx-container jax="SVG"
display="true"><svg><g data-mml-node="merror"><rect/></g></svg></mjx-container></div>"""


def test_the_checker_finds_raw_latex() -> None:
    scan = scan_math(RAW)
    assert [f.tag for f in scan.formulas] == ["span", "div"]
    assert scan.unrendered == scan.formulas
    assert scan.formulas[0].raw_text == "\\(e_u, e_i\\)"


def test_the_checker_accepts_typeset_math_and_counts_errors() -> None:
    scan = scan_math(TYPESET)
    assert len(scan.formulas) == 2 and not scan.unrendered
    assert scan.errors == 1
    assert scan_math(TYPESET.replace("<svg>", "<span>").replace("</svg>", "</span>")).unrendered


def test_the_checker_finds_the_mathjax_script() -> None:
    page = ('<script src="../_static/doctools.js"></script>'
            '<script defer="defer" src="https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js">'
            '</script><script defer src="../_static/mathjax/tex-svg-full.js?v=1"></script>')
    assert mathjax_sources(page) == ["https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js",
                                     "../_static/mathjax/tex-svg-full.js?v=1"]


# --------------------------------------------------------------------------- a built site
@pytest.fixture(scope="module")
def site() -> Path:
    folder = os.environ.get("GNNREC_DOCS_HTML")
    if not folder:
        pytest.skip("no built docs: set GNNREC_DOCS_HTML to the output of "
                    "'sphinx-build -b html docs DIR' (as .ci/run does)")
    root = Path(folder)
    assert (root / PAGES[0]).is_file(), f"GNNREC_DOCS_HTML={folder}: no {PAGES[0]} there"
    return root


@pytest.fixture(scope="module")
def browser() -> str:
    names = [os.environ["GNNREC_CHROMIUM"]] if os.environ.get("GNNREC_CHROMIUM") else BROWSERS
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = (f"no headless browser found (tried {', '.join(names)}); on Debian: "
               "apt-get install chromium-headless-shell")
    if os.environ.get("GNNREC_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _chromium(browser: str, profile: Path, *args: str) -> str:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={profile}",
               "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: no host name resolves
               "--virtual-time-budget=20000", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_page_loads_the_bundled_mathjax(site: Path) -> None:
    pages = [p for p in sorted(site.rglob("*.html")) if 'class="math' in p.read_text("utf-8")]
    assert len(pages) >= len(PAGES), pages
    for page in pages:
        sources = mathjax_sources(page.read_text("utf-8"))
        assert len(sources) == 1, (page, sources)
        assert "://" not in sources[0], f"{page} loads MathJax from the network: {sources[0]}"
        script = (page.parent / sources[0].split("?")[0]).resolve()
        assert script.is_file() and script.stat().st_size > 1_000_000, script
    assert (site / "_static" / "mathjax" / "LICENSE").is_file()  # MathJax is Apache-2.0


@pytest.mark.parametrize("page", PAGES)
def test_formulas_are_typeset_offline_in_a_browser(
    site: Path, browser: str, page: str, tmp_path: Path
) -> None:
    static = scan_math((site / page).read_text("utf-8"))
    assert len(static.formulas) >= 5 and static.unrendered == static.formulas  # raw LaTeX
    dom = _chromium(browser, tmp_path / "profile", "--dump-dom", (site / page).as_uri())
    scan = scan_math(dom)
    assert len(scan.formulas) == len(static.formulas), "the page lost or gained formulas"
    shown = [f.raw_text.strip()[:80] for f in scan.unrendered]
    assert not shown, (f"{page}: {len(shown)} of {len(scan.formulas)} formulas not typeset "
                       f"in {browser}: {shown[:5]}")
    assert scan.errors == 0, f"{page}: MathJax reported {scan.errors} errors"
    screenshot = os.environ.get("GNNREC_DOCS_SCREENSHOT")
    if screenshot and page == PAGES[0]:
        _chromium(browser, tmp_path / "shot", "--window-size=1100,1400",
                  f"--screenshot={Path(screenshot).resolve()}", (site / page).as_uri())
        assert Path(screenshot).is_file()
