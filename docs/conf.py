"""Sphinx configuration of the gnnrec documentation.

Build with (warnings are errors)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The build works offline, and so does the site it makes: MathJax is bundled
(see *Math* below). Intersphinx inventories are only used when they can be
reached: ``GNNREC_DOCS_INTERSPHINX=auto`` (the default) probes each one
with a short timeout and drops the unreachable ones, ``=1`` uses all of them
(a failed fetch then fails the build), ``=0`` uses none.
"""

from __future__ import annotations

import concurrent.futures
import importlib.metadata
import os
import re
import shutil
import sys
import urllib.request
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # autodoc the checkout, also when gnnrec is not installed

import gnnrec

# -- Project -----------------------------------------------------------------
project = "gnnrec"
author = "gnnrec developers"
copyright = "gnnrec developers"
release = gnnrec.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions --------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
]
try:
    import sphinx_gallery  # noqa: F401
except ImportError:  # the examples page falls back to literalinclude
    HAVE_GALLERY = False
else:
    HAVE_GALLERY = True
    extensions.append("sphinx_gallery.gen_gallery")

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/*.inc"]
root_doc = "index"

# -- autodoc / autosummary / napoleon ----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"
python_maximum_signature_line_length = 88
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # "Attributes" as field lists: no clash with documented properties
napoleon_use_rtype = False
napoleon_custom_sections = [("Shapes", "notes_style")]

# -- myst (Markdown: changelog, benchmark results) ---------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# Benchmark reports are written by another tool and may link to files that are
# not Sphinx documents (CSV, JSON); such links stay plain links.
suppress_warnings = [
    "myst.xref_missing",
    "myst.header",
    # numpydoc types such as "tensor, shape (n_users, k)" turn every word into a
    # cross-reference; dimension names like ``n_users`` then match several
    # attributes. Real ambiguous references in prose are rare and checked by review.
    "ref.python",
]

# -- intersphinx (online and offline) ----------------------------------------
_INVENTORIES = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable",
    "scipy": "https://docs.scipy.org/doc/scipy",
    "sklearn": "https://scikit-learn.org/stable",
    "torch": "https://docs.pytorch.org/docs/stable",
    "torch_geometric": "https://pytorch-geometric.readthedocs.io/en/latest",
}
intersphinx_timeout = 5


def _reachable(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/objects.inv", timeout=timeout) as response:
            return response.status == 200 and bool(response.read(16))
    except Exception:  # offline, DNS failure, proxy refusal, timeout ...
        return False


def _intersphinx_mapping() -> dict[str, tuple[str, None]]:
    mode = os.environ.get("GNNREC_DOCS_INTERSPHINX", "auto").strip().lower()
    if mode in ("0", "off", "false", "no"):
        return {}
    if mode in ("1", "on", "true", "yes"):
        return {name: (url, None) for name, url in _INVENTORIES.items()}
    with concurrent.futures.ThreadPoolExecutor(len(_INVENTORIES)) as pool:
        ok = dict(zip(_INVENTORIES, pool.map(_reachable, _INVENTORIES.values()), strict=True))
    dropped = sorted(name for name, good in ok.items() if not good)
    if dropped:
        print(f"intersphinx: unreachable, not linked: {', '.join(dropped)}")
    return {name: (url, None) for name, url in _INVENTORIES.items() if ok[name]}


intersphinx_mapping = _intersphinx_mapping()

# -- sphinx-gallery: render examples/ without running them ---------------------
# The examples are run by tests/test_examples.py (GNNREC_EXAMPLES_QUICK=1).
if HAVE_GALLERY:
    sphinx_gallery_conf = {
        "examples_dirs": str(ROOT / "examples"),
        "gallery_dirs": "auto_examples",
        "filename_pattern": r"^$",  # execute nothing
        "plot_gallery": "False",
        "ignore_pattern": r"(__init__|/_[^/]*)\.py$",
        "within_subsection_order": "FileNameSortKey",
        "download_all_examples": False,
        "remove_config_comments": True,
        "show_signature": False,
        "write_computation_times": False,
    }

elif (DOCS / "examples.rst").exists():
    # Without sphinx-gallery: one page per example that shows its source.
    def _fallback_gallery() -> None:
        out = DOCS / "auto_examples"
        out.mkdir(exist_ok=True)
        names = sorted(p.stem for p in (ROOT / "examples").glob("[!_]*.py"))
        index = ["Examples gallery", "================", "", ".. toctree::", ""]
        index += [f"   {name}" for name in names]
        (out / "index.rst").write_text("\n".join(index) + "\n", encoding="utf-8")
        for name in names:
            rel = os.path.relpath(ROOT / "examples" / f"{name}.py", out)
            title = name.replace("_", " ")
            text = (
                f"{title}\n{'=' * len(title)}\n\n.. literalinclude:: {rel}\n   :language: python\n"
            )
            (out / f"{name}.rst").write_text(text, encoding="utf-8")

    _fallback_gallery()

# -- generated include files ---------------------------------------------------
_GENERATED = DOCS / "generated"
_BENCHMARK_MD = ROOT / "benchmarks" / "results" / "ml-1m.md"


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _rebase_links(markdown: str, prefix: str) -> str:
    """Prefix the relative targets of Markdown links/images and HTML src/href."""

    def fix(target: str) -> str:
        if re.match(r"^([a-z][a-z0-9+.-]*:|#|/)", target, flags=re.IGNORECASE):
            return target  # absolute URL, anchor or root path
        return prefix + target

    markdown = re.sub(r"(\]\()([^)\s]+)", lambda m: m.group(1) + fix(m.group(2)), markdown)
    return re.sub(
        r"""((?:src|href)=["'])([^"']+)""", lambda m: m.group(1) + fix(m.group(2)), markdown
    )


def _benchmark_include() -> str:
    """Markdown included by benchmarks.md: the ML-1M report when it exists.

    The report is copied with its relative links rebased onto docs/, the
    folder of the page that includes it, so its figures are found.
    """
    if _BENCHMARK_MD.is_file():
        prefix = os.path.relpath(_BENCHMARK_MD.parent, DOCS).replace(os.sep, "/") + "/"
        text = _BENCHMARK_MD.read_text(encoding="utf-8")
        text = re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)  # below the page title
        return _rebase_links(text, prefix)
    return (
        ":::{note}\nThe MovieLens-1M report (`benchmarks/results/ml-1m.md`) is not part of "
        "this build. It is written by `python -m benchmarks.reproduce --dataset ml-1m`; "
        "read it in the source tree.\n:::\n"
    )


_write_if_changed(_GENERATED / "benchmark_results.inc", _benchmark_include())

# -- Math: MathJax bundled with the site, never loaded from a CDN ------------------
# sphinx.ext.mathjax loads MathJax from a CDN by default, so a site opened
# offline shows raw LaTeX. The docs extra installs django-static-mathjax, a
# dependency-free wheel that ships the MathJax 3 distribution (Apache-2.0); its
# single-file SVG build (every TeX extension included, no font files) is copied
# with MathJax's licence into _static/mathjax/ of each HTML build.
# tests/test_docs_math.py opens the built Heads page in headless Chromium.
_MATHJAX_DIST = "django-static-mathjax"
_MATHJAX_DIR = "mathjax/static/mathjax"  # inside the installed distribution
_MATHJAX_FILES = {"es5/tex-svg-full.js": "tex-svg-full.js", "LICENSE": "LICENSE"}
mathjax_path = "mathjax/tex-svg-full.js"  # relative: under _static/ of the build


def _mathjax_sources() -> dict[str, Path]:
    """The bundled MathJax files by their name under _static/mathjax/."""
    try:
        dist = importlib.metadata.distribution(_MATHJAX_DIST)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    found = {}
    for source, name in _MATHJAX_FILES.items():
        path = None if dist is None else Path(str(dist.locate_file(f"{_MATHJAX_DIR}/{source}")))
        if path is None or not path.is_file():
            raise RuntimeError(
                f"docs/conf.py: the math of the docs is rendered by the MathJax that the "
                f"{_MATHJAX_DIST} package ships, and its {source} was not found; install the "
                "docs extra: pip install -e '.[docs]'"
            )
        found[name] = path
    return found


_MATHJAX_SOURCES = _mathjax_sources()


def _copy_mathjax(app: Any) -> None:
    if getattr(app.builder, "format", None) != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    for name, source in _MATHJAX_SOURCES.items():
        shutil.copyfile(source, target / name)


def setup(app: Any) -> None:
    app.connect("builder-inited", _copy_mathjax)


# -- HTML ----------------------------------------------------------------------
html_theme = "furo"
html_title = f"gnnrec {release}"
html_theme_options: dict[str, str] = {}  # no public source repository yet
