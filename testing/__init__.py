"""Helpers shared by the tests (api/tests, tasks/tests, e2e) and the benchmark
(bench): plain functions and constants, no pytest fixtures. Fixtures live in
the conftest.py files and call into these modules; a test module imports from
here, never from another test module or from a conftest.py.

- testing.tokens: HS256 tokens as Better Auth signs them (no Django needed).
- testing.credentials: tokens signed with the test settings' secret, and the
  catalogue of bad credentials the authentication tests share.
- testing.environments: environments for a fresh process (clean, development,
  production, a served deployment).
- testing.processes: run a Python or manage.py process, start and stop
  servers, free loopback ports.
- testing.databases: throwaway PostgreSQL databases.
- testing.http: one raw HTTP/1.1 exchange over a socket.
- testing.assertions: checks of error answers shared between test modules.
- testing.listing: the list's filters and orderings computed in Python, varied
  task sets, and walks through pages.
"""

from datetime import UTC, datetime

# A time no test runs at: a row's `updated_at` set to it shows any later write.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
