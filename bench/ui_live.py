"""How soon an event a run worker writes shows in an open run page: the time from the event's commit to
its row being visible in headless Chromium, over `--events` events written one at a time to a running run.

    /work/venv/bin/python bench/ui_live.py [--events 40]

A fresh ORCHESTRA_HOME on SQLite (`auth: {mode: none}`), the production webserver (uvicorn on
`orchestra_site.asgi`), one STARTED run whose page is opened once; each event is written through the
same service a run worker uses (`runs.services.event_store`, from a thread: Playwright's sync API keeps
an event loop in the main one). Reports the median, p95 and max delay.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench._fixtures import free_port, stop_group  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-live-") as tmp:
        home = Path(tmp)
        (home / "orchestra.yaml").write_text("auth:\n  mode: none\n")
        os.environ.update(ORCHESTRA_HOME=str(home), DJANGO_SETTINGS_MODULE="orchestra_site.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from runs import services
        from runs.models import Run, RunStatus
        from runs.services import EventInput

        run = services.run_create(job_name="bench_job", location_name="bench")
        Run.objects.filter(pk=run.pk).update(status=RunStatus.STARTED)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        port = free_port()
        log = home / "webserver.log"
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "orchestra_site.asgi:application", "--port",
                                 str(port), "--log-level", "warning"], env=env, cwd=REPO,
                                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        delays: list[float] = []
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page()
                deadline = time.monotonic() + 60
                while True:
                    try:
                        page.goto(f"http://127.0.0.1:{port}/runs/{run.run_id}/")
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise RuntimeError(log.read_text()[-2000:]) from None
                        time.sleep(0.3)
                for i in range(args.events):
                    written: list[float] = []

                    def write(i: int = i, written: list[float] = written) -> None:
                        services.event_store(run_id=run.run_id, events=[EventInput(message=f"live event {i}")])
                        written.append(time.perf_counter())

                    thread = threading.Thread(target=write)
                    thread.start()
                    thread.join()
                    page.locator(".event .msg", has_text=f"live event {i}").first.wait_for(state="visible")
                    delays.append(time.perf_counter() - written[0])
                    time.sleep(0.37)  # not in step with the page's one-second poll
                browser.close()
        finally:
            stop_group(proc)
    delays.sort()
    p95 = delays[min(len(delays) - 1, int(len(delays) * 0.95))]
    print(f"event written -> visible in an open run page, {len(delays)} events (load {os.getloadavg()[0]:.1f}): "
          f"median {statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
