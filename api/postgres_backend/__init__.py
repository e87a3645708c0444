"""Django's PostgreSQL backend with a connection health check that costs no
round trip while the server has said nothing (see base.py)."""
