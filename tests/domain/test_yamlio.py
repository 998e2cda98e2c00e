from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from replication.config import ReplicationConfig
from replication.yamlio import MAX_BYTES, TooLong, YamlError, emit, parse


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip()


BASIC = doc(
    """
    source: MY_POSTGRES
    target: MY_SNOWFLAKE

    defaults:
      mode: full-refresh
      object: '{stream_schema}_{stream_table}'

    streams:
      public.accounts:
      public.users:
        primary_key: [id]
      public.finance_departments:
        object: 'departments'
    """
)


def test_it_parses_streams_in_file_order_and_keeps_null_streams():
    replication = parse(BASIC).replication
    assert replication.source == "MY_POSTGRES"
    assert list(replication.streams) == ["public.accounts", "public.users", "public.finance_departments"]
    assert replication.streams["public.accounts"] is None
    assert replication.streams["public.users"] == {"primary_key": ["id"]}


def test_it_records_the_line_of_every_key():
    document = parse(BASIC)
    assert document.lines[("streams", "public.users")] == 10
    assert document.lines[("streams", "public.users", "primary_key")] == 11
    # A path without a line of its own falls back to its nearest ancestor.
    assert document.line_of(("streams", "public.users", "primary_key", 0)) == 11


def test_emit_round_trips_and_is_stable():
    text = emit(parse(BASIC).replication)
    assert yaml.safe_load(text) == yaml.safe_load(BASIC)
    assert emit(parse(text).replication) == text


def test_emit_writes_the_canonical_order():
    text = emit(
        parse(
            doc(
                """
                streams:
                  b.t:
                    zzz_unknown: 1
                    update_key: ts
                    mode: incremental
                    object: x.t
                env: {A: 1}
                target: T
                source: S
                """
            )
        ).replication
    )
    assert text == doc(
        """
        source: S
        target: T

        streams:
          b.t:
            mode: incremental
            object: x.t
            update_key: ts
            zzz_unknown: 1

        env:
          A: 1
        """
    )


def test_it_keeps_empty_values_apart_from_missing_ones():
    source = doc(
        """
        source: S
        target: T
        defaults: {}
        streams:
          a.b: {}
          a.c:
          a.d:
            mode:
        """
    )
    assert yaml.safe_load(emit(parse(source).replication)) == yaml.safe_load(source)


def test_multiline_sql_is_written_as_a_block():
    source = doc(
        """
        source: S
        target: T
        streams:
          q:
            object: a.b
            sql: |
              select *
              from t
        """
    )
    text = emit(parse(source).replication)
    assert "sql: |\n      select *\n      from t\n" in text


def test_anchors_and_merge_keys_are_expanded():
    source = doc(
        """
        source: S
        target: T
        defaults:
          target_options: &opts
            column_casing: snake
        streams:
          a.b:
            object: x.b
            target_options:
              <<: *opts
              use_bulk: false
        """
    )
    text = emit(parse(source).replication)
    assert "&" not in text and "*" not in text
    assert yaml.safe_load(text) == yaml.safe_load(source)


def test_timestamps_keep_their_text():
    # Go's layout string must reach Sling exactly as written, `.000000` included.
    source = "source: S\ntarget: T\nstreams:\n  a.b:\n    object: x\n    source_options:\n"
    source += "      datetime_format: 2006-01-02 15:04:05.000000 -07\n"
    replication = parse(source).replication
    assert replication.streams["a.b"]["source_options"]["datetime_format"] == "2006-01-02 15:04:05.000000 -07"
    text = emit(replication)
    # Quoted: PyYAML (dagster-sling) reads the text too, not a datetime; Sling reads the same.
    assert "datetime_format: '2006-01-02 15:04:05.000000 -07'\n" in text
    assert yaml.safe_load(text)["streams"]["a.b"]["source_options"]["datetime_format"] == (
        "2006-01-02 15:04:05.000000 -07"
    )


def test_a_quoted_date_stays_quoted_after_the_database():
    # Stored as JSON and written again: `value: "2020-01-15 00:00:00"` must not come back plain.
    source = "source: S\ntarget: T\nhooks:\n  start:\n    - type: store\n      key: k\n"
    source += '      value: "2020-01-15 00:00:00"\nstreams:\n  a.b:\n    object: x\n'
    stored = ReplicationConfig.from_dict(json.loads(json.dumps(parse(source).replication.to_dict())))
    assert yaml.safe_load(emit(stored))["hooks"]["start"][0]["value"] == "2020-01-15 00:00:00"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("source: S\ntarget: T\nstreams:\n  a.b:\n    object: {stream_table}.x\n", 5, "must be quoted"),
        ("source: S\nsource: T\nstreams: {}\n", 2, "duplicate key `source` (first defined on line 1)"),
        ("source: S\ntarget: T\nstreams:\n  a:\n\tobject: x\n", 5, "not valid YAML"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("", 1, "empty"),
        ("source: !!python/object:os.system x\n", 1, "cannot read value"),
        ("a: 1\n---\nb: 2\n", 2, "more than one YAML document"),
    ],
)
def test_bad_documents_are_refused_with_a_line(text, line, words):
    with pytest.raises(YamlError) as raised:
        parse(text)
    assert raised.value.line == line
    assert words in raised.value.message


def test_an_alias_bomb_is_refused():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join(f"*a{i - 1}" for _ in range(9))
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(YamlError, match="expands to more than"):
        parse("\n".join(lines))


@pytest.mark.parametrize(("depth", "words"), [(100, "nests deeper than 64"), (100_000, "nesting depth")])
def test_deep_nesting_is_refused(depth, words):
    with pytest.raises(YamlError, match=words):
        parse("a: " + "[" * depth + "]" * depth)


def test_a_huge_document_is_refused_before_reading_it():
    with pytest.raises(YamlError, match="larger than 10 MB"):
        parse(b"#" * (MAX_BYTES + 1))


def test_bytes_that_are_not_utf8_are_refused_with_their_line():
    with pytest.raises(YamlError) as raised:
        parse(b"source: S\ntarget: \xff\n")
    assert raised.value.line == 2
    assert "not UTF-8" in raised.value.message


def test_a_utf8_byte_order_mark_is_accepted():
    assert parse("\ufeffsource: S\ntarget: T\nstreams: {a: }\n".encode()).replication.target == "T"


def test_most_written_counts_the_keys_and_values_as_written():
    # The root mapping, a, 1, b, the list, 2, 3: seven (a mapping's or list's end is no more).
    text = "a: 1\nb: [2, 3]\n"

    assert parse(text, most_written=7).replication.extra == {"a": 1, "b": [2, 3]}
    with pytest.raises(TooLong, match="more than 6 keys and values") as refused:
        parse(text, most_written=6)
    assert refused.value.line == 2
