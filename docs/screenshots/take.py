"""Screenshots of every view, in English and in Chinese, on a laptop (1280x800) and on a phone (390x844).

    GRADIO_ANALYTICS_ENABLED=False python docs/screenshots/take.py [--out docs/screenshots] [--only explore,lab]

Starts `python app.py` on a free local port with the first digit fixed (AE_FIRST_DIGIT=1), opens each view
as a new visitor would, before any input, and saves `<language>-<width>-<view>.jpg`: the whole page on a laptop,
and on a phone what the screen shows from the tab bar down. The phone page has touch. The Chinese pages need a
font with Chinese characters (Debian: fonts-noto-cjk); without one it stops before it starts.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from ae.ui.app_server import CHROMIUM, FLAGS, AppServer, open_view  # noqa: E402
from ae.ui.lesson import VIEWS  # noqa: E402

SIZES = {"laptop": dict(viewport={"width": 1280, "height": 800}),
         "phone": dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="folder (default: here)")
    parser.add_argument("--only", default="", help="comma-separated view ids (default: every view)")
    args = parser.parse_args(argv)
    listed = shutil.which("fc-list")
    fonts = subprocess.run([listed, ":lang=zh"], capture_output=True, text=True).stdout if listed else ""
    if not fonts.strip():  # chromium would draw every Chinese character as an empty box
        sys.exit("No font with Chinese characters is installed (Debian: apt-get install fonts-noto-cjk).")
    keys = [k for _, k, _, _ in VIEWS if not args.only or k in args.only.split(",")]
    with AppServer(AE_FIRST_DIGIT="1") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for language in ("en", "zh-CN"):
            for size, options in SIZES.items():
                page = browser.new_page(locale=language, **options)
                page.goto(f"{server.url}?lang={language}")
                page.locator("#recon img").wait_for(timeout=180_000)
                width = options["viewport"]["width"]
                for key in keys:
                    open_view(page, key)
                    page.wait_for_timeout(2500)  # the view's pictures load
                    name = args.out / f"{language}-{width}-{key}"
                    if size == "phone":  # what the screen shows, from the tab bar down
                        page.evaluate("document.querySelector('[role=tablist]').scrollIntoView()")
                    page.screenshot(path=f"{name}.jpg", quality=55, type="jpeg", full_page=size == "laptop")
                    print(f"{name}.jpg", flush=True)
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
