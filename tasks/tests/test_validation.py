"""Bodies that fail validation: `422 {"detail": ..., "errors": {...}}`, nothing
written. And the strings that must round-trip exactly."""

import json
from typing import TYPE_CHECKING

import pytest
from rest_framework.test import APIClient

from tasks.models import Task
from testing import LONG_AGO
from testing.assertions import assert_422_naming

if TYPE_CHECKING:
    from testing.assertions import TestResponse

pytestmark = pytest.mark.django_db

EMOJI = "\N{GRINNING FACE}"  # one code point, four UTF-8 bytes, two UTF-16 units


@pytest.fixture
def original(make_task) -> Task:
    """Alice's task, aged so that any write would show in `updated_at`."""
    task = make_task(title="Original", description="Original description", completed=False)
    Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)
    task.refresh_from_db()
    return task


def snapshot(task: Task) -> tuple:
    task = Task.objects.get(pk=task.pk)
    return (task.title, task.description, task.completed, task.created_at, task.updated_at)


def send(client: APIClient, method: str, path: str, body: object) -> "TestResponse":
    return getattr(client, method)(path, body, format="json")


def send_raw(client: APIClient, method: str, path: str, raw: str) -> "TestResponse":
    return getattr(client, method)(path, raw, content_type="application/json")


# Bodies invalid on create *and* on update, with the fields each must name.
INVALID_FIELDS = [
    ({"title": ""}, ["title"]),
    ({"title": "   "}, ["title"]),
    ({"title": " \t\n\r "}, ["title"]),
    ({"title": "a" * 201}, ["title"]),
    ({"title": "  " + "a" * 201 + "  "}, ["title"]),
    ({"title": EMOJI * 201}, ["title"]),
    ({"title": "a\x00b"}, ["title"]),
    ({"title": "\x00"}, ["title"]),
    ({"title": "ok", "description": "d" * 2001}, ["description"]),
    ({"title": "ok", "description": EMOJI * 2001}, ["description"]),
    ({"title": "ok", "description": "line\x00"}, ["description"]),
    ({"title": 42}, ["title"]),
    ({"title": 4.2}, ["title"]),
    ({"title": True}, ["title"]),
    ({"title": []}, ["title"]),
    ({"title": ["x"]}, ["title"]),
    ({"title": {}}, ["title"]),
    ({"title": None}, ["title"]),
    ({"title": "ok", "description": 42}, ["description"]),
    ({"title": "ok", "description": False}, ["description"]),
    ({"title": "ok", "description": []}, ["description"]),
    ({"title": "ok", "description": {}}, ["description"]),
    ({"title": "ok", "completed": "true"}, ["completed"]),
    ({"title": "ok", "completed": "yes"}, ["completed"]),
    ({"title": "ok", "completed": 1}, ["completed"]),
    ({"title": "ok", "completed": 0}, ["completed"]),
    ({"title": "ok", "completed": None}, ["completed"]),
    ({"title": "ok", "completed": []}, ["completed"]),
    ({"title": "", "description": 42, "completed": "no"}, ["title", "description", "completed"]),
    ({"title": None, "completed": 1}, ["title", "completed"]),
]

# Raw JSON texts whose strings hold an unpaired surrogate (only expressible as
# an escape: the bytes themselves would not be valid UTF-8).
LONE_SURROGATES = [
    ('{"title": "\\ud800"}', ["title"]),
    ('{"title": "a\\udfffb"}', ["title"]),
    ('{"title": "\\ude00\\ud83d"}', ["title"]),  # both halves, in the wrong order
    ('{"title": "ok", "description": "\\ud800"}', ["description"]),
    ('{"title": "\\udc00", "description": "x\\ud83d"}', ["title", "description"]),
]

NOT_AN_OBJECT = ["[]", '[{"title": "x"}]', '"x"', "42", "true", "null"]


class TestCreateValidation:
    def test_missing_title_is_a_422_naming_title(self, alice, original):
        before = Task.objects.count()

        response = send(alice, "post", "/api/tasks", {"description": "no title", "completed": True})

        assert_422_naming(response, "title")
        assert Task.objects.count() == before

    @pytest.mark.parametrize(("body", "fields"), INVALID_FIELDS, ids=[repr(b)[:60] for b, _ in INVALID_FIELDS])
    def test_invalid_field_is_a_422_and_nothing_is_created(self, alice, original, body, fields):
        before = Task.objects.count()

        response = send(alice, "post", "/api/tasks", body)

        assert_422_naming(response, *fields)
        assert Task.objects.count() == before

    @pytest.mark.parametrize(("raw", "fields"), LONE_SURROGATES)
    def test_lone_surrogate_is_a_422_and_nothing_is_created(self, alice, original, raw, fields):
        before = Task.objects.count()

        response = send_raw(alice, "post", "/api/tasks", raw)

        assert_422_naming(response, *fields)
        assert Task.objects.count() == before

    @pytest.mark.parametrize("raw", NOT_AN_OBJECT)
    def test_body_that_is_not_an_object_is_a_422(self, alice, original, raw):
        before = Task.objects.count()

        response = send_raw(alice, "post", "/api/tasks", raw)

        assert response.status_code == 422
        body = response.json()
        assert isinstance(body["detail"], str)
        assert isinstance(body["errors"], dict)
        assert Task.objects.count() == before

    def test_empty_object_is_a_422_naming_title(self, alice, db):
        response = send(alice, "post", "/api/tasks", {})

        assert_422_naming(response, "title")
        assert Task.objects.count() == 0


@pytest.mark.parametrize("method", ["put", "patch"])
class TestUpdateValidation:
    @pytest.mark.parametrize(("body", "fields"), INVALID_FIELDS, ids=[repr(b)[:60] for b, _ in INVALID_FIELDS])
    def test_invalid_field_is_a_422_and_the_task_is_unchanged(self, alice, original, method, body, fields):
        before = snapshot(original)
        count = Task.objects.count()

        response = send(alice, method, f"/api/tasks/{original.id}", body)

        assert_422_naming(response, *fields)
        assert snapshot(original) == before
        assert Task.objects.count() == count

    @pytest.mark.parametrize(("raw", "fields"), LONE_SURROGATES)
    def test_lone_surrogate_is_a_422_and_the_task_is_unchanged(self, alice, original, method, raw, fields):
        before = snapshot(original)

        response = send_raw(alice, method, f"/api/tasks/{original.id}", raw)

        assert_422_naming(response, *fields)
        assert snapshot(original) == before

    @pytest.mark.parametrize("raw", NOT_AN_OBJECT)
    def test_body_that_is_not_an_object_is_a_422(self, alice, original, method, raw):
        before = snapshot(original)

        response = send_raw(alice, method, f"/api/tasks/{original.id}", raw)

        assert response.status_code == 422
        assert isinstance(response.json()["detail"], str)
        assert snapshot(original) == before

    def test_a_valid_field_beside_an_invalid_one_is_not_applied(self, alice, original, method):
        before = snapshot(original)

        response = send(alice, method, f"/api/tasks/{original.id}", {"title": "Renamed", "completed": "yes"})

        assert_422_naming(response, "completed")
        assert snapshot(original) == before


class TestLengthLimits:
    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            ("a", "a"),
            ("a" * 200, "a" * 200),
            ("  " + "a" * 200 + "  ", "a" * 200),
            ("\t" + "b" * 200 + "\n", "b" * 200),
            (EMOJI * 200, EMOJI * 200),
            ("\N{HEBREW LETTER ALEF}" * 200, "\N{HEBREW LETTER ALEF}" * 200),
        ],
        ids=["one", "200-ascii", "200-after-trim", "200-after-trim-tab-newline", "200-emoji", "200-hebrew"],
    )
    def test_title_up_to_200_code_points_is_accepted(self, alice, db, sent, stored):
        response = send(alice, "post", "/api/tasks", {"title": sent})

        assert response.status_code == 201, response.content
        assert response.json()["title"] == stored
        assert Task.objects.get().title == stored

    @pytest.mark.parametrize("description", ["", "d" * 2000, EMOJI * 2000], ids=["empty", "2000-ascii", "2000-emoji"])
    def test_description_up_to_2000_code_points_is_accepted(self, alice, db, description):
        response = send(alice, "post", "/api/tasks", {"title": "ok", "description": description})

        assert response.status_code == 201, response.content
        assert Task.objects.get().description == description

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_limits_apply_to_updates_as_well(self, alice, original, method):
        accepted = send(alice, method, f"/api/tasks/{original.id}", {"title": EMOJI * 200, "description": "d" * 2000})

        assert accepted.status_code == 200
        original.refresh_from_db()
        assert (original.title, original.description) == (EMOJI * 200, "d" * 2000)


ROUND_TRIPS = [
    "Emoji \N{GRINNING FACE}\N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4} and a flag \U0001f1eb\U0001f1f7",
    "\N{HEBREW LETTER SHIN}\N{HEBREW LETTER LAMED}\N{HEBREW LETTER VAV}\N{HEBREW LETTER FINAL MEM} "
    "\N{ARABIC LETTER MEEM}\N{ARABIC LETTER REH}\N{ARABIC LETTER HAH}\N{ARABIC LETTER BEH}\N{ARABIC LETTER ALEF}",
    "line one\nline two\r\nline three",
    "tab\there\tand\tthere",
    "'; DROP TABLE tasks_task; --",
    "Robert'); DELETE FROM tasks_task WHERE ('1'='1",
    '" OR 1=1 -- \\ % _',
    "<script>alert('x')</script> &amp;",
    "combining e\N{COMBINING ACUTE ACCENT} vs \N{LATIN SMALL LETTER E WITH ACUTE}",
    "zero\N{ZERO WIDTH JOINER}width\N{RIGHT-TO-LEFT MARK}marks\N{BYTE ORDER MARK}",
    "\N{REPLACEMENT CHARACTER}\uffff\U0010ffff",
    # PostgreSQL's own quoting, and escapes that must stay text, never become NUL
    "$$; DROP TABLE tasks_task; $$ and '); SELECT pg_sleep(10); --",
    "E'\\x00' then \\x00 then \\u0000 then %00 then &#0;",
    # Emoji sequences: zero-width joiners, skin tones, keycaps
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 wave \U0001f44b\U0001f3fd keycap 1\ufe0f\u20e3",
    # Bidirectional text: an override that reverses what follows, and vowelled Arabic with Arabic digits
    "invoice \N{RIGHT-TO-LEFT OVERRIDE}fdp.exe\N{POP DIRECTIONAL FORMATTING} done",
    "\u0628\u0650\u0633\u0652\u0645\u0650 \u0661\u0662\u0663 mixed",
    # Controls other than NUL, separators and noncharacters are text like any other
    "bell\x07 escape\x1b delete\x7f c1\x85 nbsp\xa0 line\u2028para\u2029end",
    "nonchar\ufdd0 tag\U000e0041 end",
]


class TestRoundTrips:
    @pytest.mark.parametrize("text", ROUND_TRIPS)
    def test_title_round_trips_exactly(self, alice, db, text):
        created = send(alice, "post", "/api/tasks", {"title": text})

        assert created.status_code == 201, created.content
        assert created.json()["title"] == text
        assert Task.objects.get().title == text
        assert alice.get(f"/api/tasks/{created.json()['id']}").json()["title"] == text

    @pytest.mark.parametrize("text", ROUND_TRIPS)
    def test_description_round_trips_exactly(self, alice, db, text):
        created = send(alice, "post", "/api/tasks", {"title": "ok", "description": text})

        assert created.status_code == 201, created.content
        assert created.json()["description"] == text
        assert Task.objects.get().description == text
        assert alice.get("/api/tasks").json()["items"][0]["description"] == text

    @pytest.mark.parametrize("method", ["put", "patch"])
    @pytest.mark.parametrize("text", ROUND_TRIPS)
    def test_update_round_trips_exactly(self, alice, original, method, text):
        response = send(alice, method, f"/api/tasks/{original.id}", {"title": text, "description": text})

        assert response.status_code == 200, response.content
        original.refresh_from_db()
        assert (original.title, original.description) == (text, text)

    def test_description_is_stored_as_sent_not_trimmed(self, alice, db):
        description = "  \n\tindented and trailing\t \n"

        created = send(alice, "post", "/api/tasks", {"title": "ok", "description": description})

        assert created.json()["description"] == description
        assert Task.objects.get().description == description

    def test_whitespace_only_description_is_stored_as_sent(self, alice, db):
        created = send(alice, "post", "/api/tasks", {"title": "ok", "description": " \t\n "})

        assert created.status_code == 201
        assert Task.objects.get().description == " \t\n "

    def test_title_is_trimmed_but_inner_whitespace_kept(self, alice, db):
        created = send(alice, "post", "/api/tasks", {"title": "\n  two\twords  inside \t"})

        assert created.json()["title"] == "two\twords  inside"

    def test_escaped_astral_character_in_json_round_trips(self, alice, db):
        raw = json.dumps({"title": EMOJI}, ensure_ascii=True)  # '{"title": "\\ud83d\\ude00"}': a valid pair
        assert "\\ud83d\\ude00" in raw

        created = send_raw(alice, "post", "/api/tasks", raw)

        assert created.status_code == 201
        assert created.json()["title"] == EMOJI
