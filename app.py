"""党务助手 web app: python app.py  →  http://127.0.0.1:7860 (see assistant/web/)."""
import sys
import time

_STARTED = time.perf_counter()

if __name__ == "__main__":
    from assistant.web.server import main

    sys.exit(main(started=_STARTED))
