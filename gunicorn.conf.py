"""gunicorn settings: `gunicorn -c gunicorn.conf.py` serves the API.

Values come from the environment through Django settings (BIND_ADDRESS,
PORT, WEB_CONCURRENCY), so the service reads its configuration in one place.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")

# Importing settings here makes an unsafe production configuration stop the
# master with one clear line, before any worker is forked.
from api import gunicorn_errors
from todo_project import settings

gunicorn_errors.install()

wsgi_app = "todo_project.wsgi:application"
# 127.0.0.1 by default: a sync worker is held for as long as a client takes
# to send its request, so a few slow clients would hold them all. The nginx
# of deploy/nginx/todo-api.conf buffers whole requests and is the only client.
_host = f"[{settings.BIND_ADDRESS}]" if ":" in settings.BIND_ADDRESS else settings.BIND_ADDRESS
bind = [f"{_host}:{settings.PORT}"]
workers = settings.WEB_CONCURRENCY
# Load the app once in the master: workers share its memory and start fast.
preload_app = True
timeout = 30
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = 30
# Nothing here uses gunicorn's control socket, and two instances on one host
# would contend for its default path.
control_socket_disable = True
# No access log: the app logs one structured line per request itself
# (api/request_logging.py), and gunicorn's line would repeat the raw
# request line, query string included, where a careless client may put a token.
accesslog = None
# gunicorn believes X-Forwarded-Proto from loopback clients by default, which
# would make any request relayed by a same-host proxy "https" whatever
# DJANGO_TRUST_X_FORWARDED_PROTO says. Django alone decides (settings.py).
secure_scheme_headers: dict[str, str] = {}
errorlog = "-"

# Request limits: gunicorn's defaults, stated because the API relies on them.
# A header field of up to 8190 bytes carries any realistic token (Better Auth's
# session JWT must fit a 4 KB cookie); a larger one is answered 431 before the
# app runs, so header memory stays bounded at 100 fields of 8 KiB each.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def pre_fork(server: object, worker: object) -> None:
    """The app is loaded (preload_app) and about to be shared by fork: move
    its objects out of the garbage collector's generations, so no worker
    rescans them in every full collection, or copies the pages a scan writes to."""
    gc.freeze()
