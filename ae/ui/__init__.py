"""Everything Gradio: the page's tabs, its components, the API endpoints, serving, and one error policy.

The `ae` package around it is the library and never imports gradio; the arrows point app -> ae.ui -> ae.
"""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def static(name: str) -> str:
    """The text of a file in ae/ui/static/ (the page's CSS and JS live there, not in Python strings)."""
    return (STATIC / name).read_text()
