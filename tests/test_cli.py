"""The `alerts` command: each subcommand against real servers and a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.cli import main
from alerts.store import Store, make_engine
from tests.support.feed_server import FeedServer
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_pipeline import NAVALNY, NAVALNY_SYNDICATED, RATES, rss

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
[[feeds]]
name = "wire"
url = "{wire}"

[[feeds]]
name = "courier"
url = "{courier}"

[[watchlists]]
name = "russia"
terms = ["Navalny", "sanctions against Russia", "Навальный"]

[[channels]]
name = "inbox"
type = "email"
to = ["desk@example.org"]

[[subscriptions]]
name = "desk"
watchlists = ["russia"]
channel = "inbox"
"""


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)


@pytest.fixture
def setup(tmp_path: Path, feed_server: FeedServer) -> dict[str, str]:
    feed_server.route("/wire.xml", body=rss(NAVALNY, RATES))
    feed_server.route("/courier.xml", body=rss(NAVALNY_SYNDICATED, title="Courier"))
    config = tmp_path / "feeds.toml"
    config.write_text(
        CONFIG.format(wire=feed_server.url("/wire.xml"), courier=feed_server.url("/courier.xml")),
        encoding="utf-8",
    )
    return {
        "config": str(config),
        "database": f"sqlite:///{tmp_path / 'db' / 'a.db'}",
        "outbox": str(tmp_path / "outbox"),
    }


def test_check_accepts_the_bundled_config() -> None:
    result = invoke("check", "--config", str(ROOT / "feeds.toml"), env={"ALERTS_SMTP_URL": ""})
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output


def test_check_and_run_name_every_problem_and_touch_no_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[feeds]]\nname = "x"\nurl = "gopher://x"\ninterval = "often"\n'
        '[[subscriptions]]\nname = "s"\nwatchlists = ["nope"]\nchannel = "c"\n',
        encoding="utf-8",
    )
    db = tmp_path / "never" / "a.db"
    for command in ("check", "run"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "alerts.cli",
                command,
                "--config",
                str(bad),
                "--database",
                f"sqlite:///{db}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "ALERTS_SMTP_URL": ""},
        )
        assert result.returncode == 2, result.stderr
        assert f"{bad}: line 3, feeds[0] 'x'.url: bad URL 'gopher://x'" in result.stderr
        assert "line 4, feeds[0] 'x'.interval: bad interval 'often'" in result.stderr
        assert "no watchlist named 'nope'" in result.stderr
        assert "no channel named 'c'" in result.stderr
        assert "Traceback" not in result.stderr
    assert not db.parent.exists()


def test_bad_environment_setting_is_reported(tmp_path: Path) -> None:
    result = invoke(
        "check",
        "--config",
        str(ROOT / "feeds.toml"),
        env={"ALERTS_SMTP_URL": "smtp://", "ALERTS_TICK_SECONDS": "x"},
    )
    assert result.exit_code == 2
    assert "ALERTS_TICK_SECONDS" in result.output


def test_match_reads_json_lines_and_explains(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        CONFIG.format(wire="https://a.example/f", courier="https://b.example/f"), encoding="utf-8"
    )
    lines = "\n".join(
        [
            json.dumps(
                {
                    "title": "EU adopts sanctions against Russia",
                    "summary": "Over Alexei Navalny's death.",
                }
            ),
            json.dumps({"title": "Weather", "summary": "Sunny."}),
            json.dumps({"title": "Суд над Навальный", "summary": ""}),
        ]
    )
    result = invoke("match", "--config", str(config), "--json", input=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(rows) == 2
    terms = {(m["term"], m["field"]) for m in rows[0]["matches"]}
    assert terms == {("sanctions against Russia", "title"), ("Navalny", "summary")}
    # "Навальный" and "Navalny" are one term after transliteration; the first one reports.
    assert rows[1]["matches"][0]["term"] == "Navalny"
    assert rows[1]["matches"][0]["snippet"] == "Суд над Навальный"

    text = invoke("match", "--config", str(config), input=lines)
    assert "[russia] 'Navalny' in summary: Over Alexei Navalny's death." in text.output
    assert "2 of 3 items matched" in text.output


def test_match_reports_bad_stdin_lines(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        CONFIG.format(wire="https://a.example/f", courier="https://b.example/f"), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["match", "--config", str(config)], input="{not json\n")
    assert result.exit_code == 2
    assert "stdin line 1" in result.output


def test_match_a_feed_file_and_url(
    setup: dict[str, str], feed_server: FeedServer, tmp_path: Path
) -> None:
    path = tmp_path / "wire.xml"
    path.write_bytes(rss(NAVALNY, RATES))
    for source in (str(path), feed_server.url("/wire.xml")):
        result = invoke("match", "--config", setup["config"], source)
        assert result.exit_code == 0, result.output
        assert "1 of 2 items matched" in result.output
        assert "US announces sanctions against Russia" in result.output


def test_poll_feeds_digest_and_db_commands(setup: dict[str, str]) -> None:
    common = ["--config", setup["config"], "--database", setup["database"]]
    env = {"ALERTS_SMTP_URL": "", "ALERTS_OUTBOX_DIR": setup["outbox"]}

    upgraded = invoke("db", "upgrade", *common, env=env)
    assert upgraded.exit_code == 0 and "revision" in upgraded.output

    polled = invoke("poll", "--once", *common, env=env)
    assert polled.exit_code == 0, polled.output
    assert (
        "polled 2 feeds: 2 fetched, 0 not modified, 3 new items, 1 alerts queued, 0 errors"
        in polled.output
    )

    table = invoke("feeds", *common, env=env)
    assert "wire" in table.output and "courier" in table.output

    dry = invoke("digest", "--once", "--dry-run", *common, env=env)
    assert dry.exit_code == 0 and "desk -> inbox: 1 stories" in dry.output
    assert not Path(setup["outbox"]).exists()

    sent = invoke("digest", "--once", *common, env=env)
    assert sent.exit_code == 0, sent.output
    assert "desk -> inbox: sent, 1 stories" in sent.output
    [eml] = Path(setup["outbox"]).glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "desk@example.org"
    assert "Navalny" in message.get_body(preferencelist=("plain",)).get_content()

    again = invoke("digest", "--once", *common, env=env)
    assert "nothing due" in again.output

    unknown = CliRunner().invoke(main, ["poll", "--once", "--feed", "nope", *common], env=env)
    assert unknown.exit_code == 2 and "no feed named 'nope'" in unknown.output


@pytest.mark.slow
def test_demo_lands_one_digest_with_the_syndicated_story_once(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox-demo"
    result = subprocess.run(
        [sys.executable, "-m", "alerts.cli", "demo", "--outbox", str(outbox), "--seconds", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "ALERTS_SMTP_URL": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [eml] = outbox.glob("*.eml")
    text = (
        message_from_bytes(eml.read_bytes(), policy=policy.default)
        .get_body(preferencelist=("plain",))
        .get_content()
    )
    # Syndicated twice and noticed officially, alerted once: one story listing all three
    # sources, the official notice first; the Iran story is the other one.
    assert text.count("\n* ") == 2, text
    sources = text.split("Sources (3):", 1)[1]
    assert sources.index("[official]") < sources.index("Global Wire") < sources.index("Courier")
    assert "Navalny" in text and "Iran" in text
    assert "digest written to" in result.stdout


def test_items_list_delete_and_prune(setup: dict[str, str]) -> None:
    common = ["--config", setup["config"], "--database", setup["database"]]
    env = {"ALERTS_SMTP_URL": "", "ALERTS_OUTBOX_DIR": setup["outbox"]}
    assert invoke("poll", "--once", *common, env=env).exit_code == 0

    listed = invoke("items", "list", *common, env=env)
    assert listed.exit_code == 0 and "Central bank holds rates" in listed.output
    assert "same page URL" in listed.output  # the syndicated copy joined the wire's story

    engine = make_engine(setup["database"])
    try:
        rates = next(i for i in Store(engine).items() if "rates" in i.title)
        deleted = invoke("items", "delete", str(rates.id), "999999", *common, env=env)
        assert deleted.exit_code == 0 and "deleted 1 item(s); missing: 1" in deleted.output
        # The feed still carries it: the tombstone keeps it out.
        assert invoke("poll", "--once", *common, env=env).exit_code == 0
        assert all("rates" not in i.title for i in Store(engine).items())
    finally:
        engine.dispose()

    too_soon = invoke("items", "prune", "--older-than", "1h", *common, env=env)
    assert too_soon.exit_code == 2 and "story window" in too_soon.output
    pruned = invoke("items", "prune", "--older-than", "30d", *common, env=env)
    assert pruned.exit_code == 0 and "deleted 0 item(s)" in pruned.output


def test_send_test_deliveries_and_channels_commands(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(
        '[[watchlists]]\nname = "russia"\nterms = ["Navalny"]\n\n'
        '[[channels]]\nname = "hook"\ntype = "webhook"\nurl_env = "CLI_HOOK_URL"\n',
        encoding="utf-8",
    )
    common = ["--config", str(config), "--database", f"sqlite:///{tmp_path / 'a.db'}"]
    env = {"CLI_HOOK_URL": webhook_receiver.url("/hook")}

    webhook_receiver.respond("/hook", [200], body=b'{"received": true}')
    ok = invoke("send-test", "hook", *common, env=env)
    assert ok.exit_code == 0, ok.output
    assert "result:   sent" in ok.output and '200 {"received": true}' in ok.output
    assert webhook_receiver.wait_for(1)[0].json["stories"][0]["title"].startswith("Test message")

    webhook_receiver.respond("/hook", [403], body=b"forbidden: bad token")
    bad = CliRunner().invoke(main, ["send-test", "hook", *common], env=env)
    assert bad.exit_code == 1
    assert "result:   dead" in bad.output and "403 forbidden: bad token" in bad.output

    unknown = CliRunner().invoke(main, ["send-test", "nope", *common], env=env)
    assert unknown.exit_code == 2 and "no channel named 'nope'" in unknown.output

    listed = invoke("deliveries", *common, env=env)
    assert listed.exit_code == 0 and "sent" in listed.output and "dead" in listed.output
    dead = invoke("deliveries", "--status", "dead", *common, env=env)
    rows = [line for line in dead.output.splitlines() if line.startswith("│")]
    assert len(rows) == 1 and "│ dead" in rows[0] and "403" in rows[0]
    shown = invoke("deliveries", "show", "2", *common, env=env)
    assert "failed" in shown.output and "forbidden: bad token" in shown.output

    webhook_receiver.respond("/hook", [])
    retried = invoke("deliveries", "retry", "2", *common, env=env)
    assert retried.exit_code == 0 and "queued again" in retried.output
    not_dead = CliRunner().invoke(main, ["deliveries", "retry", "1", *common], env=env)
    assert not_dead.exit_code == 1 and "not dead" in not_dead.output

    channels = invoke("channels", *common, env=env)
    assert channels.exit_code == 0 and "hook" in channels.output
    resumed = invoke("channels", "resume", "hook", *common, env=env)
    assert "was not paused" in resumed.output


def test_lists_shows_snapshots_and_rebaseline_drops_one(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/uk.xml", body=(ROOT / "tests/data/lists/uk-sanctions-list-v1.xml").read_bytes()
    )
    config = tmp_path / "feeds.toml"
    config.write_text(
        f'[[feeds]]\nname = "uk-list"\nkind = "list"\nurl = "{feed_server.url("/uk.xml")}"\n'
        'format = "uk-sanctions-list-xml"\ninterval = "6h"\n',
        encoding="utf-8",
    )
    common = ["--config", str(config), "--database", f"sqlite:///{tmp_path / 'a.db'}"]
    env = {"ALERTS_OUTBOX_DIR": str(tmp_path / "outbox")}
    assert "no list snapshots" in invoke("lists", *common, env=env).output
    polled = invoke("poll", "--once", *common, env=env)
    assert polled.exit_code == 0, polled.output
    table = invoke("feeds", *common, env=env)
    assert "uk-list" in table.output and "list" in table.output.split("uk-list", 1)[1]
    shown = invoke("lists", *common, env=env)
    assert "uk-list: 6 entries (uk-sanctions-list-xml), published 2026-06-30" in shown.output
    dropped = invoke("lists", "rebaseline", "uk-list", *common, env=env)
    assert "snapshot dropped; the next file is a silent baseline" in dropped.output
    assert (
        "no snapshot was stored"
        in invoke("lists", "rebaseline", "uk-list", *common, env=env).output
    )
    unknown = CliRunner().invoke(main, ["lists", "rebaseline", "nope", *common], env=env)
    assert unknown.exit_code != 0 and "unknown feed 'nope'" in unknown.output
