"""The layers the tree promises: ae/ is the library and never imports gradio; ae/ui/ holds all Gradio code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = sorted(".".join(p.relative_to(ROOT / "ae").with_suffix("").parts) for p in (ROOT / "ae").rglob("*.py")
              if p.stem != "__init__" and "ui" not in p.relative_to(ROOT / "ae").parts)


def test_every_core_module_imports_without_gradio():
    imports = "; ".join(f"import ae.{name}" for name in CORE)
    check = f"import sys; {imports}; assert 'gradio' not in sys.modules, [m for m in sys.modules if 'gradio' in m]"
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert {"model", "data", "train", "checkpoint", "preprocess", "inference", "uploads", "build", "models",
            "kinds.autoencoder", "kinds.pca"} <= set(CORE)


def test_app_is_a_composition():
    lines = [line for line in (ROOT / "app.py").read_text().splitlines() if line.strip()]
    assert len(lines) < 60, "app.py should only load the model, build the views and launch"  # ten views
    assert "def " not in "\n".join(lines)
