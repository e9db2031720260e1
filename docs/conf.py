"""Sphinx configuration for the praclox-privacy documentation (MyST markdown).

Build with warnings as errors, as CI does::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html
"""

from importlib.metadata import PackageNotFoundError, version

project = "praclox-privacy"
author = "Praclox"
copyright = "Praclox"

try:
    release = version("praclox-privacy")
except PackageNotFoundError:  # building from a checkout that is not installed
    release = "0.1.0"
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # The command line reference (cli.md) is generated from the click commands.
    "sphinx_click",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Curly quotes and ellipses, but "--" stays two hyphens: the command line reference
# (generated from the commands' help) names options such as --workspace in running text.
smartquotes_action = "qe"

# MyST: anchors for headings down to level 3, so links like
# [periods](policy-reference.md#periods) resolve.
myst_heading_anchors = 3

# The pages use plain code spans for Python names; autodoc is available but the pages
# do not pull in docstrings, so nitpicky mode has nothing to resolve there.
autodoc_typehints = "none"
napoleon_google_docstring = False
napoleon_numpy_docstring = False

nitpicky = True
# Types of the standard library and of third-party packages that docstrings name; there is
# no intersphinx (the build runs offline), so these are not links.
nitpick_ignore = [
    ("py:class", "abc.ABC"),
    ("py:class", "enum.StrEnum"),
    ("py:class", "collections.abc.Callable"),
    ("py:class", "dateutil.relativedelta.relativedelta"),
    ("py:class", "PluginManager"),
    ("py:meth", "PluginManager.register"),
]

html_theme = "alabaster"
html_title = "praclox-privacy"
html_theme_options = {
    "description": "A privacy statement turned into enforced code.",
    "fixed_sidebar": False,
}
