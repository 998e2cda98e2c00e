from __future__ import annotations

import textwrap

import pytest

from replication.context import ConnectionInfo, Context
from replication.problems import ERROR, WARNING, format_path
from replication.validate import validate
from replication.yamlio import parse

# A and B are databases the studio knows.
KNOWN = Context(connections={"A": ConnectionInfo("postgres"), "B": ConnectionInfo("postgres")})


def problems_of(text: str, context: Context | None = None) -> list[tuple[str, int | None, str, str]]:
    document = parse(textwrap.dedent(text).lstrip())
    found = validate(document.replication, document.line_of, context=context)
    return [(p.where, p.line, p.severity, p.message) for p in found]


def test_a_good_replication_has_no_problems():
    assert (
        problems_of(
            """
            source: PG
            target: SF
            defaults:
              mode: incremental
              object: '{stream_schema}.{stream_table}'
              primary_key: [id]
            streams:
              public.users:
              public.orders:
                update_key: updated_at
            """
        )
        == []
    )


def test_missing_top_level_keys_are_errors():
    found = problems_of("env: {A: 1}\n")
    assert ("", None, ERROR, "`source` is missing: name the source connection") in found
    assert ("", None, ERROR, "`target` is missing: name the target connection") in found
    assert (
        "",
        None,
        ERROR,
        "`streams` is missing or empty: a replication needs at least one stream",
    ) in found


def test_a_stream_without_object_names_the_stream_and_its_line():
    found = problems_of(
        """
        source: PG
        target: SF
        streams:
          public.users:
            mode: full-refresh
        """
    )
    assert found == [
        (
            'streams["public.users"]',
            4,
            ERROR,
            "no `object`: set the target table or file here or in `defaults`",
        )
    ]


def test_a_disabled_stream_needs_an_object_too():
    # sling-cli#441, still so in 1.4.11 (and 1.5.23): the whole replication is refused.
    assert problems_of("source: A\ntarget: B\nstreams:\n  s.t:\n    disabled: true\n") == [
        (
            'streams["s.t"]',
            4,
            ERROR,
            "no `object`: sling 1.4.11 refuses the whole replication when a stream has none, disabled "
            "or not (sling-cli#441); set one here or in `defaults`",
        )
    ]


def test_an_unknown_mode_is_an_error_with_a_suggestion():
    found = problems_of("source: A\ntarget: B\nstreams:\n  s.t:\n    object: x\n    mode: incremetal\n")
    assert found == [
        ('streams["s.t"].mode', 6, ERROR, "unknown mode `incremetal`; did you mean `incremental`?")
    ]


def test_a_mode_from_a_runtime_variable_is_accepted():
    assert problems_of("source: A\ntarget: B\nstreams:\n  s.t:\n    object: x\n    mode: '{MODE}'\n") == []


def test_incremental_needs_a_key_even_when_the_mode_comes_from_defaults():
    found = problems_of(
        """
        source: A
        target: B
        defaults:
          mode: incremental
          object: x.{stream_table}
        streams:
          s.t:
          s.u:
            primary_key: id
        """,
        KNOWN,
    )
    assert found == [('streams["s.t"]', 7, ERROR, "incremental mode needs `primary_key` and/or `update_key`")]


def test_incremental_without_keys_from_an_unknown_source_is_a_warning():
    # An API source needs no keys: the studio cannot tell without knowing the connection.
    found = problems_of(
        "source: STRIPE\ntarget: B\nstreams:\n  customers:\n    object: x\n    mode: incremental\n"
    )
    assert [(f[0], f[2]) for f in found] == [("streams.customers.mode", WARNING)]


def test_backfill_needs_both_keys_and_a_range():
    found = problems_of(
        """
        source: A
        target: B
        streams:
          s.t:
            object: x
            mode: backfill
            update_key: ts
            source_options:
              range: 2024-01-01
        """
    )
    messages = [f[3] for f in found]
    assert messages == [
        "backfill mode needs both `primary_key` and `update_key`",
        'backfill mode needs `source_options.range` as "start,end"',
    ]
    assert all(f[1] == 6 for f in found)


def test_a_misspelt_key_is_a_warning_with_a_suggestion_and_is_kept():
    text = "source: A\ntarget: B\nstreams:\n  s.t:\n    object: x\n    primary_keys: [id]\n"
    assert problems_of(text) == [
        (
            'streams["s.t"].primary_keys',
            6,
            WARNING,
            "unknown key `primary_keys`; did you mean `primary_key`? (kept as written)",
        )
    ]
    assert parse(text).replication.streams["s.t"]["primary_keys"] == ["id"]


def test_wrong_types_are_errors():
    found = problems_of(
        """
        source: [A]
        target: B
        streams:
          s.t:
            object: x
            disabled: "yes"
            primary_key: {id: 1}
            tags: tagged
        """
    )
    assert [(f[0], f[3]) for f in found] == [
        ("source", "`source` must be a connection name (text)"),
        ('streams["s.t"].disabled', "`disabled` must be true or false"),
        ('streams["s.t"].primary_key', "`primary_key` must be text or a list of text"),
        ('streams["s.t"].tags', "`tags` must be a list of text"),
    ]


def test_two_streams_with_one_asset_key_are_reported():
    found = problems_of(
        """
        source: A
        target: B
        streams:
          s.one:
            object: main.t
          s.two:
            object: main.T
        """
    )
    assert found == [
        (
            'streams["s.two"]',
            6,
            WARNING,
            "asset key `target/main/t` is also the key of stream `s.one`; dagster-sling refuses two "
            "streams with one key (set a distinct `object` or meta.dagster.asset_key)",
        )
    ]


@pytest.mark.parametrize("field", ["asset_key", "deps"])
def test_an_unsanitized_dagster_key_is_an_error(field):
    found = problems_of(
        f"""
        source: A
        target: B
        streams:
          s.t:
            object: x
            meta:
              dagster:
                {field}: My-Key
        """
    )
    assert len(found) == 1
    where, line, severity, message = found[0]
    assert (where, line, severity) == (f'streams["s.t"].meta.dagster.{field}', 8, ERROR)
    assert "`My-Key` is not sanitized" in message


def test_hooks_are_checked():
    found = problems_of(
        """
        source: A
        target: B
        hooks:
          begin: []
        streams:
          s.t:
            object: x
            hooks:
              post: [{sql: select 1}]
        """
    )
    # Sling ignores a hook point it does not know; an item without a type stops the stream.
    assert [(f[0], f[1], f[2], f[3]) for f in found] == [
        ("hooks.begin", 4, WARNING, "sling ignores the hook point `begin`"),
        ('streams["s.t"].hooks.post[0]', 9, ERROR, "a hook needs a `type` (sling 1.4.11: invalid hook type)"),
    ]


def test_unknown_top_level_keys_are_warnings():
    found = problems_of("source: A\ntarget: B\nstream: {}\nstreams:\n  s.t: {object: x}\n")
    assert found == [
        (
            "stream",
            3,
            WARNING,
            "unknown top-level key `stream`; did you mean `streams`? (kept, Sling ignores it)",
        )
    ]


def test_paths_read_like_the_document():
    assert format_path(("streams", "public.users", "source_options", "range")) == (
        'streams["public.users"].source_options.range'
    )
    assert format_path(("hooks", "start", 0, "type")) == "hooks.start[0].type"


def test_threads_and_retries_without_a_cli_pro_token_are_a_warning():
    # sling 1.4.11 warns on every run ("invalid or missing token ... threads and retries") and
    # goes on with one thread and no retry: the studio says so before the run.
    text = """
        source: A
        target: B
        env:
          SLING_THREADS: 2
          SLING_RETRIES: '1'
          SLING_LOADED_AT_COLUMN: timestamp
        streams:
          public.users: {object: raw.users}
        """
    found = problems_of(text, KNOWN)

    assert [(where, line, severity) for where, line, severity, _ in found] == [
        ("env.SLING_THREADS", 4, WARNING),
        ("env.SLING_RETRIES", 5, WARNING),
    ]
    assert found[0][3] == (
        "`SLING_THREADS` needs a sling CLI Pro token: without SLING_CLI_TOKEN in the studio's "
        'environment, sling 1.4.11 warns "invalid or missing token" and runs with one thread and no retry'
    )
    # One thread, no retry: nothing to warn of; and with a token, sling takes them.
    assert problems_of(text.replace(": 2", ": 1").replace("'1'", "0"), KNOWN) == []
    with_token = Context(connections=KNOWN.connections, process_env={"SLING_CLI_TOKEN": "t"})
    assert problems_of(text, with_token) == []
