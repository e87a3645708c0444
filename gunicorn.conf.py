"""gunicorn settings: `gunicorn -c gunicorn.conf.py` serves the API.

Values come from the environment through Django settings (PORT,
WEB_CONCURRENCY), so the service reads its configuration in one place.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todo_project.settings")

# Importing settings here makes an unsafe production configuration stop the
# master with one clear line, before any worker is forked.
from todo_project import gunicorn_errors, settings

gunicorn_errors.install()

wsgi_app = "todo_project.wsgi:application"
bind = [f"0.0.0.0:{settings.PORT}"]
workers = settings.WEB_CONCURRENCY
# Load the app once in the master: workers share its memory and start fast.
preload_app = True
timeout = 30
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = 30
# Nothing here uses gunicorn's control socket, and two instances on one host
# would contend for its default path.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
