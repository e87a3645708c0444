"""Production guard rails: unless DJANGO_DEBUG=true asks for development mode,
the service runs in production mode and refuses missing or unsafe secrets with
one line on stderr; development mode says what it defaults. Each test starts a fresh Python process, since settings are
read once at start-up."""

import pytest

from testing.assertions import assert_refused_with_one_line
from testing.environments import GOOD_AUTH_SECRET, GOOD_SECRET_KEY, clean_env, development_env, production_env
from testing.processes import manage, run_python
from todo_project.settings import DEV_BETTER_AUTH_SECRET, DEV_SECRET_KEY

EXAMPLE_PLACEHOLDER = "change-me-to-a-long-random-string"
SHORT_SECRET = "Zq8#short-but-random-31-chars!x"  # one below the minimum of 32


# --- Refused secrets -----------------------------------------------------------------

BAD_VALUES = {
    "missing": None,
    "blank": "   ",
    "dev-secret-key": DEV_SECRET_KEY,
    "dev-better-auth-secret": DEV_BETTER_AUTH_SECRET,
    "env-example-placeholder": EXAMPLE_PLACEHOLDER,
    "shorter-than-32": SHORT_SECRET,
}


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "BETTER_AUTH_SECRET"])
@pytest.mark.parametrize("value", list(BAD_VALUES.values()), ids=list(BAD_VALUES))
def test_production_refuses_an_unsafe_secret_with_one_line(variable, value):
    env = production_env()
    if value is None:
        del env[variable]
    else:
        env[variable] = value

    result = manage("check", env=env)

    assert_refused_with_one_line(result, variable)
    if value and value.strip():
        assert value not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DJANGO_SECRET_KEY", "k" * 16 + "Q" * 16), ("BETTER_AUTH_SECRET", "a" * 16 + "Z" * 16)],
    ids=["DJANGO_SECRET_KEY", "BETTER_AUTH_SECRET"],
)
def test_production_accepts_a_secret_of_exactly_32_characters(variable, value):
    result = manage("check", env=production_env(**{variable: value}))

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["maybe", "ture", "2"])
def test_invalid_debug_value_is_refused_with_one_line(value):
    result = manage("check", env=production_env(DJANGO_DEBUG=value))

    assert_refused_with_one_line(result, "DJANGO_DEBUG")


@pytest.mark.parametrize("value", ["600", "600/fortnight", "0/min", "-5/min", "many/min", "600 per minute"])
def test_invalid_rate_limit_is_refused_with_one_line(value):
    result = manage("check", env=production_env(API_RATE_LIMIT=value))

    line = assert_refused_with_one_line(result, "API_RATE_LIMIT")
    assert "600/min" in line


@pytest.mark.parametrize("value", ["600/min", "10/s", "5000/hour", "100000/day", "off", "OFF"])
def test_valid_rate_limits_are_accepted(value):
    result = manage("check", env=production_env(API_RATE_LIMIT=value))

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", ["API_AUTH_FAILURE_RATE_LIMIT", "API_DOCS_RATE_LIMIT"])
@pytest.mark.parametrize("value", ["300", "0/min", "300 per minute"])
def test_invalid_client_address_rate_limit_is_refused_with_one_line(variable, value):
    result = manage("check", env=production_env(**{variable: value}))

    line = assert_refused_with_one_line(result, variable)
    assert "600/min" in line


def test_client_address_limits_default_to_generous_rates_and_trust_no_proxy(value_in_fresh_process):
    expression = "[settings.API_AUTH_FAILURE_RATE_LIMIT, settings.API_DOCS_RATE_LIMIT, settings.TRUSTED_PROXIES]"

    assert value_in_fresh_process(expression) == ["300/min", "120/min", []]
    assert value_in_fresh_process(expression, API_AUTH_FAILURE_RATE_LIMIT="Off", API_DOCS_RATE_LIMIT="10/s") == [
        "off",
        "10/s",
        [],
    ]


def test_trusted_proxies_are_read_as_networks(value_in_fresh_process):
    proxies = value_in_fresh_process(
        "settings.TRUSTED_PROXIES", TRUSTED_PROXIES=" 10.0.0.2, 172.16.0.0/12 ,::1,fd00::/8"
    )

    assert proxies == ["10.0.0.2/32", "172.16.0.0/12", "::1/128", "fd00::/8"]


@pytest.mark.parametrize("value", ["nginx", "10.0.0.1/8", "10.0.0.0/33", "*"])
def test_a_trusted_proxy_that_is_not_an_address_or_network_is_refused_with_one_line(value):
    result = manage("check", env=production_env(TRUSTED_PROXIES=value))

    line = assert_refused_with_one_line(result, "TRUSTED_PROXIES")
    assert repr(value) in line


def test_a_redis_url_without_a_scheme_is_refused_without_echoing_it():
    result = manage("check", env=production_env(REDIS_URL="cache.internal:6379"))

    line = assert_refused_with_one_line(result, "REDIS_URL")
    assert "cache.internal" not in line


@pytest.mark.parametrize("value", ["xml", "jsonl", "text"])
def test_invalid_log_format_is_refused_with_one_line(value):
    result = manage("check", env=production_env(LOG_FORMAT=value))

    assert_refused_with_one_line(result, "LOG_FORMAT")


BAD_BETTER_AUTH_URLS = {
    "no-scheme": "localhost:3000",
    "other-scheme": "ftp://auth.example.com",
    "with-path": "https://app.example.com/api/auth",
    "with-query": "https://app.example.com?x=1",
    "with-credentials": "https://user:pw@app.example.com",
    "bad-port": "http://localhost:99999",
}


@pytest.mark.parametrize("value", list(BAD_BETTER_AUTH_URLS.values()), ids=list(BAD_BETTER_AUTH_URLS))
def test_better_auth_url_that_is_not_an_http_origin_is_refused_with_one_line(value):
    result = manage("check", env=production_env(BETTER_AUTH_URL=value))

    assert_refused_with_one_line(result, "BETTER_AUTH_URL")


def test_jwks_url_without_better_auth_url_is_refused_with_one_line():
    result = manage("check", env=production_env(BETTER_AUTH_JWKS_URL="https://app.example.com/api/auth/jwks"))

    assert_refused_with_one_line(result, "BETTER_AUTH_URL")


def test_jwks_settings_default_to_the_better_auth_origin():
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'todo_project.settings'); django.setup();"
        "from django.conf import settings as s;"
        "print(s.BETTER_AUTH_URL, s.BETTER_AUTH_JWKS_URL, s.BETTER_AUTH_JWKS_ISSUER, s.BETTER_AUTH_JWKS_AUDIENCE)"
    )
    result = run_python(["-c", code], production_env(BETTER_AUTH_URL="https://app.example.com/"))

    assert result.returncode == 0, result.stderr
    origin = "https://app.example.com"
    assert result.stdout.split() == [origin, f"{origin}/api/auth/jwks", origin, origin]


INSECURE_KEY_SOURCES = {
    "http-better-auth-url": {"BETTER_AUTH_URL": "http://app.example.com"},
    "http-jwks-url": {
        "BETTER_AUTH_URL": "https://app.example.com",
        "BETTER_AUTH_JWKS_URL": "http://keys.example.com/jwks",
    },
    "http-private-address": {
        "BETTER_AUTH_URL": "https://app.example.com",
        "BETTER_AUTH_JWKS_URL": "http://10.0.0.5/jwks",
    },
    "localhost-lookalike": {"BETTER_AUTH_URL": "http://localhost.evil.example"},
    "loopback-lookalike": {"BETTER_AUTH_URL": "http://127.0.0.1.example.com"},
}


@pytest.mark.parametrize("env", list(INSECURE_KEY_SOURCES.values()), ids=list(INSECURE_KEY_SOURCES))
def test_production_refuses_to_fetch_signing_keys_over_http_from_another_host(env):
    line = assert_refused_with_one_line(manage("check", env=production_env(**env)), "BETTER_AUTH_JWKS_URL")

    assert "https://" in line


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1:3000", "http://127.8.9.10:3000", "http://[::1]:3000"]
)
def test_production_fetches_signing_keys_over_http_from_a_loopback_host(origin):
    result = manage("check", env=production_env(BETTER_AUTH_URL=origin))

    assert result.returncode == 0, result.stderr


def test_development_fetches_signing_keys_over_http_from_any_host():
    result = manage("check", env=development_env(BETTER_AUTH_URL="http://auth.dev.example:3000"))

    assert result.returncode == 0, result.stderr


# --- A correct production configuration is clean ---------------------------------------


def test_production_configuration_passes_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert result.stderr.strip() == ""


def test_production_configuration_with_tls_passes_check_deploy():
    env = production_env(DJANGO_SECURE_SSL="true")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert result.stderr.strip() == ""


# --- Development mode -------------------------------------------------------------------------


def test_no_configuration_at_all_is_production_mode_and_refuses_naming_what_to_set():
    result = manage("check", env=clean_env())

    line = assert_refused_with_one_line(result, "DJANGO_SECRET_KEY")
    for wanted in ("BETTER_AUTH_SECRET", "BETTER_AUTH_URL", "DJANGO_DEBUG=true"):
        assert wanted in line


@pytest.mark.parametrize("value", ["false", "0", "no", "off"])
def test_debug_set_to_false_in_any_spelling_is_production_mode(value):
    result = manage("check", env=clean_env(DJANGO_DEBUG=value))

    assert_refused_with_one_line(result, "DJANGO_SECRET_KEY")


def test_development_mode_asked_for_runs_with_a_warning_per_default():
    result = manage("check", env=development_env())

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    for variable in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "BETTER_AUTH_SECRET", "DATABASE_URL"):
        assert [line for line in warnings if variable in line], f"no warning for {variable}: {result.stderr}"
    assert "Traceback" not in result.stderr


def test_development_warnings_never_print_a_secret():
    result = manage("check", env=development_env())

    output = result.stdout + result.stderr
    assert DEV_SECRET_KEY not in output
    assert DEV_BETTER_AUTH_SECRET not in output


def test_configured_variables_get_no_development_warning():
    env = development_env(DJANGO_SECRET_KEY=GOOD_SECRET_KEY, BETTER_AUTH_SECRET=GOOD_AUTH_SECRET)

    result = manage("check", env=env)

    assert result.returncode == 0, result.stderr
    for variable in ("DJANGO_SECRET_KEY", "BETTER_AUTH_SECRET"):
        assert variable not in result.stderr
    assert GOOD_SECRET_KEY not in result.stdout + result.stderr
    assert GOOD_AUTH_SECRET not in result.stdout + result.stderr


# --- JWKS mode needs no shared secret -----------------------------------------------------


def test_jwks_mode_in_production_starts_without_the_better_auth_secret():
    env = production_env(BETTER_AUTH_URL="https://app.example.com")
    del env["BETTER_AUTH_SECRET"]

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == ""


def test_jwks_mode_still_refuses_an_unsafe_better_auth_secret():
    env = production_env(BETTER_AUTH_URL="https://app.example.com", BETTER_AUTH_SECRET=SHORT_SECRET)

    assert_refused_with_one_line(manage("check", env=env), "BETTER_AUTH_SECRET")


def test_jwks_mode_in_development_uses_no_development_secret():
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'todo_project.settings'); django.setup();"
        "from django.conf import settings as s; print(s.BETTER_AUTH_SECRET, s.SIMPLE_JWT['SIGNING_KEY'])"
    )
    result = run_python(["-c", code], development_env(BETTER_AUTH_URL="https://app.example.com"))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "None"]
    assert "HS256 tokens are refused" in result.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("BETTER_AUTH_JWT_ISSUER", "BETTER_AUTH_JWKS_ISSUER"),
        ("BETTER_AUTH_JWT_AUDIENCE", "BETTER_AUTH_JWKS_AUDIENCE"),
    ],
)
def test_a_renamed_variable_is_refused_naming_its_new_name(old, new):
    env = production_env(BETTER_AUTH_URL="https://app.example.com", **{old: "https://app.example.com"})

    line = assert_refused_with_one_line(manage("check", env=env), old)
    assert new in line


# --- gunicorn refuses before forking workers ------------------------------------------------


def load_gunicorn_conf(env):
    return run_python(["-c", "import runpy; runpy.run_path('gunicorn.conf.py')"], env)


def test_gunicorn_config_refuses_production_without_secrets():
    env = clean_env(DJANGO_DEBUG="false")

    result = load_gunicorn_conf(env)

    assert_refused_with_one_line(result, "DJANGO_SECRET_KEY")


def test_gunicorn_config_with_no_environment_at_all_refuses_with_one_line():
    result = load_gunicorn_conf(clean_env())

    line = assert_refused_with_one_line(result, "DJANGO_SECRET_KEY")
    assert "BETTER_AUTH_SECRET" in line


def test_gunicorn_config_refuses_production_without_the_better_auth_secret():
    env = clean_env(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=GOOD_SECRET_KEY)

    result = load_gunicorn_conf(env)

    assert_refused_with_one_line(result, "BETTER_AUTH_SECRET")


def test_gunicorn_config_loads_with_a_safe_production_configuration():
    result = load_gunicorn_conf(production_env())

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
