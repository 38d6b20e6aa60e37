"""党务助手 web app: python app.py  →  http://127.0.0.1:7860 (see assistant/webapp.py)."""
import time

_STARTED = time.perf_counter()

if __name__ == "__main__":
    from assistant.webapp import main

    main(started=_STARTED)
