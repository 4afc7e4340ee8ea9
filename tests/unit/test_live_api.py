"""The live screen's API in process (httpx's ASGI transport on walkbot's web app, a frozen
clock, a migrated database): who gets in, what an outsider can do (nothing), the settings,
the body cap and the page's files. What the controls and ratings do to the walk and the chat
is in tests/e2e/test_live.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from telegram import InlineKeyboardMarkup

from tests.fakes import FixedClock
from tests.live_auth import auth, init_data
from tests.people import add_onboarded_person
from tests.unit.test_web import NOW, Frozen, settings_for
from tests.unit.walk_jobs import record_sends
from walkbot.app import build_application
from walkbot.bot import walk_followups, walk_views
from walkbot.context import WalkbotApp, runtime_of
from walkbot.domain import live as rule
from walkbot.domain.walks import parse_custom_plan
from walkbot.sandbox import TEST_TOKEN
from walkbot.scheduling import live as live_jobs
from walkbot.services import live as live_service
from walkbot.services import walks as walks_service
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Walk
from walkbot.web import build_web_app
from walkbot.webapp.api import MAX_API_BODY_BYTES, live_routes

ALICE, BOB, STRANGER = 7_000_000_601, 7_000_000_602, 7_000_000_603
OTHER_TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawY"


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[WalkbotApp]:
    application = build_application(settings_for(database_url, webhook=False), clock=Frozen())
    yield application
    assert application.post_shutdown is not None
    await application.post_shutdown(application)


@pytest.fixture
async def client(app: WalkbotApp) -> AsyncIterator[httpx.AsyncClient]:
    web = build_web_app(app, runtime_of(app).settings)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://walkbot") as http:
        yield http


async def walk_of(sessions: SessionFactory, user_id: int, *, status: str = "active") -> int:
    async with transaction(sessions) as session:
        await add_onboarded_person(session, user_id, "Walker", now=NOW - timedelta(days=1))
        walk = Walk(
            user_id=user_id,
            plan=parse_custom_plan("w1 2x30/60 c1").to_dict(),
            status=status,
            created_at=NOW - timedelta(seconds=100),
            started_at=NOW - timedelta(seconds=100) if status != "ready" else None,
        )
        session.add(walk)
        await session.flush()
        assert walk.id is not None
        return walk.id


async def row(sessions: SessionFactory, walk_id: int) -> dict[str, object]:
    async with transaction(sessions) as session:
        walk = await session.get(Walk, walk_id)
        assert walk is not None
        return walk.model_dump()


def forged(header: str) -> dict[str, str]:
    return {"Authorization": header}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        forged("Bearer " + "x" * 40),
        forged("tma "),
        forged("tma " + init_data(ALICE, at=NOW).replace("Walker", "Walkez")),  # tampered
        forged("tma " + init_data(ALICE, at=NOW, token=OTHER_TOKEN)),  # another bot's
        forged("tma " + init_data(ALICE, at=NOW - timedelta(days=1, seconds=1))),  # expired
        forged("tma " + init_data(ALICE, at=NOW + timedelta(minutes=2))),  # from the future
        forged("tma " + init_data(ALICE, at=NOW) + "&user=%7B%22id%22%3A1%7D"),  # twice
    ],
)
async def test_without_valid_init_data_every_route_is_401_and_nothing_changes(
    client: httpx.AsyncClient, sessions: SessionFactory, headers: dict[str, str]
) -> None:
    walk_id = await walk_of(sessions, ALICE)
    before = await row(sessions, walk_id)
    api = f"/live/api/walk/{walk_id}"
    for method, path, body in [
        ("GET", "/live/api/walk", None),
        ("GET", api, None),
        ("POST", f"{api}/control", {"action": "stop"}),
        ("POST", f"{api}/heartbeat", {"visible": True}),
        ("POST", f"{api}/rating", {"step": "effort", "value": 5}),
        ("GET", "/live/api/prefs", None),
        ("PUT", "/live/api/prefs", {"voice": False, "tones": False, "warning": False}),
    ]:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (method, path)
        assert set(response.json()) == {"error"}
        assert "set-cookie" not in response.headers
    assert await row(sessions, walk_id) == before


async def test_another_persons_walk_is_403_and_nothing_changes(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    walk_id = await walk_of(sessions, ALICE)
    await walk_of(sessions, BOB, status="ended")
    before = await row(sessions, walk_id)
    bob, api = auth(BOB, at=NOW), f"/live/api/walk/{walk_id}"
    assert (await client.get(api, headers=bob)).status_code == 403
    for action in ("pause", "stop", "need_to_stop", "start", "resume"):
        response = await client.post(f"{api}/control", json={"action": action}, headers=bob)
        assert response.status_code == 403
        assert response.json() == {"error": "not your walk"}  # nothing of Alice's walk
    response = await client.post(f"{api}/heartbeat", json={"visible": True}, headers=bob)
    assert response.status_code == 403
    rating = {"step": "effort", "value": 3}
    assert (await client.post(f"{api}/rating", json=rating, headers=bob)).status_code == 403
    assert await row(sessions, walk_id) == before
    # Bob's own view of "his walk" never shows Alice's.
    mine = (await client.get("/live/api/walk", headers=bob)).json()["walk"]
    assert mine is None or mine["id"] != walk_id


async def test_an_unknown_walk_is_404(client: httpx.AsyncClient, sessions: SessionFactory) -> None:
    await walk_of(sessions, ALICE)
    alice = auth(ALICE, at=NOW)
    for walk_id in (999_999, 2**63, 10**30):
        response = await client.get(f"/live/api/walk/{walk_id}", headers=alice)
        assert response.status_code == 404
    response = await client.get("/live/api/walk/abc", headers=alice)
    assert response.status_code == 404


async def test_the_current_walk_reads_as_the_contract_says(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    walk_id = await walk_of(sessions, ALICE)
    body = (await client.get("/live/api/walk", headers=auth(ALICE, at=NOW))).json()
    walk = body["walk"]
    assert body["prefs"] == {"voice": True, "tones": True, "warning": True}
    assert walk["id"] == walk_id and walk["status"] == "active"
    assert walk["server_now"] == NOW.isoformat()
    assert walk["started_at"] == (NOW - timedelta(seconds=100)).isoformat()
    assert walk["ends_at"] == (NOW - timedelta(seconds=100) + timedelta(seconds=300)).isoformat()
    assert (walk["paused_since"], walk["paused_s"], walk["rounds"], walk["total_s"]) == (
        None,
        0,
        2,
        300,
    )
    assert [(p["kind"], p["round"], p["start_s"]) for p in walk["phases"]] == [
        ("warmup", None, 0),
        ("backward", 1, 60),
        ("forward", 1, 90),
        ("backward", 2, 150),
        ("forward", 2, 180),
        ("cooldown", None, 240),
    ]
    assert walk["safety_card"].startswith("Before you start:")
    assert (walk["rating_step"], walk["summary"], walk["end_reason"]) == (None, None, None)
    same = (await client.get(f"/live/api/walk/{walk_id}", headers=auth(ALICE, at=NOW))).json()
    assert same["walk"] == walk


async def test_someone_walkbot_does_not_know_has_no_walk_and_cannot_save_settings(
    client: httpx.AsyncClient,
) -> None:
    stranger = auth(STRANGER, at=NOW)
    body = (await client.get("/live/api/walk", headers=stranger)).json()
    assert body == {"walk": None, "prefs": {"voice": True, "tones": True, "warning": True}}
    prefs = {"voice": False, "tones": True, "warning": False}
    assert (await client.put("/live/api/prefs", json=prefs, headers=stranger)).status_code == 404


async def test_settings_are_remembered_for_the_person(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    await walk_of(sessions, ALICE)
    await walk_of(sessions, BOB)
    alice = auth(ALICE, at=NOW)
    prefs = {"voice": False, "tones": True, "warning": False}
    assert (await client.put("/live/api/prefs", json=prefs, headers=alice)).json() == prefs
    assert (await client.get("/live/api/prefs", headers=alice)).json() == prefs
    assert (await client.get("/live/api/walk", headers=alice)).json()["prefs"] == prefs
    bob = (await client.get("/live/api/prefs", headers=auth(BOB, at=NOW))).json()
    assert bob == {"voice": True, "tones": True, "warning": True}
    for bad in ({"voice": "no", "tones": True, "warning": True}, {"voice": False}, [1]):
        response = await client.put("/live/api/prefs", json=bad, headers=alice)
        assert response.status_code == 400
    assert (await client.get("/live/api/prefs", headers=alice)).json() == prefs


async def test_bad_bodies_are_400_and_big_ones_413(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    walk_id = await walk_of(sessions, ALICE)
    before = await row(sessions, walk_id)
    alice, api = auth(ALICE, at=NOW), f"/live/api/walk/{walk_id}"
    for path, body in [
        ("control", b"not json"),
        ("control", b'{"action": "dance"}'),
        ("control", b'["stop"]'),
        ("heartbeat", b'{"visible": "yes"}'),
        ("rating", b'{"step": "mood", "value": 3}'),
        ("rating", b'{"step": "effort", "value": 11}'),
        ("rating", b'{"step": "effort", "value": true}'),
        ("rating", b'{"step": "note", "text": 5}'),
    ]:
        response = await client.post(f"{api}/{path}", content=body, headers=alice)
        assert response.status_code == 400, (path, body)
    huge = b'{"action": "stop", "pad": "' + b"x" * MAX_API_BODY_BYTES + b'"}'
    response = await client.post(f"{api}/control", content=huge, headers=alice)
    assert response.status_code == 413
    assert await row(sessions, walk_id) == before


async def test_a_heartbeat_on_an_active_walk_holds_the_chat_cues(
    client: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    walk_id = await walk_of(sessions, ALICE)
    ready_id = await walk_of(sessions, BOB, status="ready")
    alice, bob = auth(ALICE, at=NOW), auth(BOB, at=NOW)
    beat = await client.post(
        f"/live/api/walk/{walk_id}/heartbeat", json={"visible": True}, headers=alice
    )
    assert beat.json() == {"hold_chat_cues": True}
    assert (await row(sessions, walk_id))["live_seen_at"] == NOW
    beat = await client.post(
        f"/live/api/walk/{ready_id}/heartbeat", json={"visible": True}, headers=bob
    )
    assert beat.json() == {"hold_chat_cues": False}  # not started: nothing to hold


async def test_the_page_and_its_files_are_served_from_the_package_directory(
    app: WalkbotApp, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Live</title>")
    (tmp_path / "live.js").write_text("console.log('hi')")
    web = Starlette(routes=live_routes(app, runtime_of(app).settings, static_dir=tmp_path))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://walkbot") as http:
        page = await http.get("/live/?walk=12")
        assert page.status_code == 200 and "<title>Live</title>" in page.text
        assert page.headers["content-type"].startswith("text/html")
        moved = await http.get("/live?walk=12")
        assert (moved.status_code, moved.headers["location"]) == (308, "/live/?walk=12")
        script = await http.get("/live/static/live.js")
        assert script.status_code == 200 and "console.log" in script.text
        assert (await http.get("/live/static/../../settings.py")).status_code == 404
        assert (await http.get("/live/static/missing.css")).status_code == 404


async def test_without_the_page_installed_live_is_a_plain_404(
    app: WalkbotApp, tmp_path: Path
) -> None:
    web = Starlette(routes=live_routes(app, runtime_of(app).settings, static_dir=tmp_path))
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://walkbot") as http:
        assert (await http.get("/live/")).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/live/",
        "example.org/live/",
        "https://",
        "https://example.org/live/?walk=1",
        "https://example.org/live/#x",
        "ftp://example.org/",
    ],
)
def test_webapp_url_must_be_a_plain_https_address(url: str) -> None:
    with pytest.raises(ValueError, match="webapp_url"):
        Settings(telegram_bot_token=TEST_TOKEN, webapp_url=url, _env_file=None)


def test_webapp_url_unset_or_blank_is_no_live_screen() -> None:
    for value in (None, "", "  "):
        settings = Settings(telegram_bot_token=TEST_TOKEN, webapp_url=value, _env_file=None)
        assert settings.webapp_url is None
    settings = Settings(
        telegram_bot_token=TEST_TOKEN, webapp_url=" https://example.org/live/ ", _env_file=None
    )
    assert settings.webapp_url == "https://example.org/live/"


def test_the_buttons_offer_the_live_screen_only_with_webapp_url() -> None:
    def web_apps(markup: InlineKeyboardMarkup) -> list[str | None]:
        return [b.web_app.url if b.web_app else None for row in markup.inline_keyboard for b in row]

    assert set(web_apps(walk_views.start_card(12))) == {None}
    assert set(web_apps(walk_views.controls(12, paused=False))) == {None}
    live = "https://example.org/live/"
    assert web_apps(walk_views.start_card(12, live_url=live))[-1] == f"{live}?walk=12"
    assert web_apps(walk_views.controls(12, paused=True, live_url=live))[-1] == f"{live}?walk=12"


async def test_a_failing_store_is_503_without_its_words(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def busy(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT secret_note", {}, Exception("database is locked"))

    monkeypatch.setattr(live_service, "get_prefs", busy)
    response = await client.get("/live/api/prefs", headers=auth(ALICE, at=NOW))
    assert (response.status_code, response.json()) == (503, {"error": "busy, try again"})
    assert "secret_note" not in caplog.text and "OperationalError" in caplog.text


async def test_the_usual_heartbeat_needs_no_store_but_a_strangers_does(
    app: WalkbotApp,
    client: httpx.AsyncClient,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walk_id = await walk_of(sessions, ALICE)
    await walk_of(sessions, BOB)
    path = f"/live/api/walk/{walk_id}/heartbeat"
    first = await client.post(path, json={"visible": True}, headers=auth(ALICE, at=NOW))
    assert first.json() == {"hold_chat_cues": True}

    async def no_store(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(live_service, "heartbeat", no_store)
    monkeypatch.setattr(walks_service, "owned_walk", no_store)
    again = await client.post(path, json={"visible": True}, headers=auth(ALICE, at=NOW))
    assert again.json() == {"hold_chat_cues": True}  # from memory
    bob = await client.post(path, json={"visible": True}, headers=auth(BOB, at=NOW))
    assert bob.status_code == 403  # another person never takes the shortcut
    runtime_of(app).live.forget(walk_id)  # the walk ended (cues.wrap_up does this)
    after = await client.post(path, json={"visible": True}, headers=auth(ALICE, at=NOW))
    assert after.status_code == 503  # back to the store, which is down here


async def test_a_slow_start_from_the_screen_counts_the_screen_from_its_reply(
    database_url: str, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page beats only once it has the Start's reply: a reply 8 s late (300 Starts at once
    # queue on the store) must not leave the watchdog finding the screen quiet at 5 s.
    clock = FixedClock(NOW)
    application = build_application(settings_for(database_url, webhook=False), clock=clock)
    notifier = record_sends(application)
    walk_id = await walk_of(sessions, ALICE, status="ready")

    async def slow_follow_up(*args: object) -> None:
        clock.at = NOW + timedelta(seconds=8)

    monkeypatch.setattr(walk_followups, "after_control", slow_follow_up)
    web = build_web_app(application, runtime_of(application).settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://walkbot"
    ) as http:
        started = await http.post(
            f"/live/api/walk/{walk_id}/control",
            json={"action": "start"},
            headers=auth(ALICE, at=NOW),
        )
    assert started.status_code == 200 and started.json()["walk"]["status"] == "active"
    assert runtime_of(application).live.seen[walk_id] == NOW + timedelta(seconds=8)
    clock.at = NOW + timedelta(seconds=12)  # 12 s after the request, 4 s after the reply
    await live_jobs.check_screen(application, walk_id)
    assert notifier.calls == []  # still the screen's: no hand-over
    clock.at = NOW + timedelta(seconds=14)  # quiet for 6 s since the reply
    await live_jobs.check_screen(application, walk_id)
    assert [method for method, _, _ in notifier.calls] == ["walk_cue"]  # handed over once
    assert application.post_shutdown is not None
    await application.post_shutdown(application)


async def test_a_start_that_waited_on_the_store_counts_the_screen_from_when_it_got_in(
    database_url: str, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 300 Starts at once wait their turn on the store: the first cue, gated right after the
    # Start's transaction, must find the screen fresh, not seen at the request 8 s before.
    clock = FixedClock(NOW)
    application = build_application(settings_for(database_url, webhook=False), clock=clock)
    walk_id = await walk_of(sessions, ALICE, status="ready")
    real_control = walks_service.control

    async def waited(*args: object, **kwargs: object) -> walks_service.Controlled:
        clock.at = NOW + timedelta(seconds=8)
        return await real_control(*args, **kwargs)  # type: ignore[arg-type]

    async def no_follow_up(*args: object) -> None:
        seen = runtime_of(application).live.seen[walk_id]
        assert rule.cue_gate(seen, clock.now()) == "hold"  # what the first cue finds

    monkeypatch.setattr(walks_service, "control", waited)
    monkeypatch.setattr(walk_followups, "after_control", no_follow_up)
    web = build_web_app(application, runtime_of(application).settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://walkbot"
    ) as http:
        started = await http.post(
            f"/live/api/walk/{walk_id}/control",
            json={"action": "start"},
            headers=auth(ALICE, at=NOW),
        )
    assert started.status_code == 200
    assert (await row(sessions, walk_id))["live_seen_at"] == NOW + timedelta(seconds=8)
    assert application.post_shutdown is not None
    await application.post_shutdown(application)
