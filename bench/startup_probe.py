"""Child process of bench_startup: start the workstation, print 'ready CPU_SECONDS' once
interactive (the CPU time this process has used so far, all threads)."""
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtCore import QTimer

    from app.main import build_workstation, ensure_app, open_workspace

    app = ensure_app()
    ws = build_workstation()
    ws.window.show()
    open_workspace(ws)
    chart = ws.ctx.active_chart

    def check() -> None:
        if chart is not None and chart.bars is not None:
            app.processEvents()
            print("ready", time.process_time(), flush=True)
            timer.stop()
            ws.ctx.tasks.wait_all(5000)
            app.quit()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(1)
    app.exec()
    ws.ctx.tasks.wait_all(5000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
