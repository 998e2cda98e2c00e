"""YAML in and out.

`parse()` reads a replication document with the line of every mapping key, and
refuses what a safe loader should: documents over a size limit, nesting deeper
than any real config, aliases that expand without bound (the "billion laughs"),
duplicate keys and tags other than YAML's own. `emit()` writes the canonical
document: the same bytes for the same config, and `yaml.safe_load` of it equals
`yaml.safe_load` of what was parsed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import yaml

from replication.config import ReplicationConfig, canonical_stream
from replication.util import paused_gc

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 5_000_000  # nodes after expanding aliases

Path = tuple[Any, ...]


class YamlError(ValueError):
    """A document that cannot be read; `line` is 1-based, or None for the whole file."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


_WRITTEN = frozenset({yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent})


class TooLong(YamlError):
    """A document with more keys and values, as written, than the reader was told to read (it
    stopped there: reading costs as many)."""


@dataclass(slots=True)
class Document:
    replication: ReplicationConfig
    # Path of a mapping key or list item, e.g. ("streams", "public.users", "mode") -> its line.
    lines: dict[Path, int] = field(default_factory=dict)
    # The text it was read from, exactly (a byte-order mark included).
    text: str = ""

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def parse(source: str | bytes, *, most_written: int | None = None) -> Document:
    """Parse a replication document. Raises `YamlError` with a line number (`TooLong` past
    `most_written` keys and values as written, aliases not expanded)."""
    text = decode(source)
    data, lines = load_mapping(text, "a mapping with source, target and streams", most_written=most_written)
    return Document(ReplicationConfig.from_dict(data), lines, text)


def load_value(source: str) -> Any:
    """Any YAML value (a fragment typed into a form field); None for an empty text."""
    return _build(decode(source).removeprefix(_BOM), _Builder())


def _build(text: str, builder: _Builder) -> Any:
    """`builder.build(text)`, its failures turned into YamlError with a line."""
    try:
        with paused_gc():
            return builder.build(text)
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, text) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}") from None


def _reader_error(exc: yaml.reader.ReaderError, text: str) -> YamlError:
    """A character YAML does not allow (NUL, most control characters), with its line."""
    line = text.count("\n", 0, exc.position) + 1
    return YamlError(f"not valid YAML: the character #x{exc.character:04x} is not allowed in YAML", line)


def load_mapping(
    source: str | bytes, expected: str, *, most_written: int | None = None
) -> tuple[dict[Any, Any], dict[Path, int]]:
    """Any YAML document that must be a mapping, with the line of every key."""
    builder = _Builder(most_written)
    data = _build(decode(source).removeprefix(_BOM), builder)
    if builder.root_line is None:
        raise YamlError(f"the document is empty; expected {expected}", 1)
    if not isinstance(data, dict):
        raise YamlError(f"expected {expected}, found {_kind(data)}", builder.root_line)
    return data, builder.lines


def emit(replication: ReplicationConfig) -> str:
    doc = _Ordered(replication.to_dict())
    if isinstance(doc.get("defaults"), dict):
        doc["defaults"] = _Ordered(doc["defaults"])
    if isinstance(doc.get("streams"), dict):
        doc["streams"] = _ordered_streams(doc["streams"])
    text = dump(doc)
    # A blank line before each top-level section after source/target, as people write it.
    # Lines at column 0 are always top-level keys: nested content is indented.
    lines = text.splitlines(keepends=True)
    return "".join(
        "\n" + line if i > 1 and line[:1] not in ("", " ", "\n", "-") else line
        for i, line in enumerate(lines)
    )


def emit_streams(streams: dict[Any, Any]) -> str:
    """The `streams:` entries alone (e.g. one stream's YAML), keys in canonical order."""
    return dump(
        _ordered_streams(
            {name: canonical_stream(c) if isinstance(c, dict) else c for name, c in streams.items()}
        )
    )


def _ordered_streams(streams: dict[Any, Any]) -> _Ordered:
    return _Ordered({name: _Ordered(c) if isinstance(c, dict) else c for name, c in streams.items()})


def dump(data: Any) -> str:
    """YAML for `data`; maps sort by key unless they are `_Ordered`."""
    return yaml.dump(
        data,
        Dumper=_CanonicalDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=2**31 - 1,
    )


_BOM = "\ufeff"


def decode(source: str | bytes) -> str:
    """The text of a document (UTF-8, a byte-order mark kept); YamlError past the size limit."""
    if isinstance(source, str):
        if len(source) > MAX_BYTES:
            raise YamlError(f"the document is larger than {MAX_BYTES // 1024 // 1024} MB")
        return source
    if len(source) > MAX_BYTES:
        raise YamlError(f"the document is larger than {MAX_BYTES // 1024 // 1024} MB")
    try:
        return source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        raise YamlError(f"not UTF-8 text: byte 0x{source[exc.start]:02x} cannot be read", line) from None


def _marked_error(exc: yaml.MarkedYAMLError, text: str) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    if mark and exc.context_mark and mark.index >= len(text.rstrip()):
        # An unclosed quote or bracket is found at the end of the file; name where it opened.
        mark = exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or exc.context or "cannot be read"
    message = f"not valid YAML: {problem}"
    if line is not None:
        source_line = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
        if ": {" in source_line and "}" in source_line:
            message += " (a value that starts with `{` must be quoted, e.g. object: '{stream_table}')"
    return YamlError(message, line)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("null", "bool", "int", "float", "str", "timestamp")
)
_MERGE = object()  # the pending key of a `<<:` entry


class _Frame:
    """An open mapping or sequence while the events of its children arrive."""

    __slots__ = ("anchor", "key", "key_line", "merged", "path", "size", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], path: Path, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.size = 1
        self.key: Any = None  # a mapping's key awaiting its value
        self.key_line = 0
        self.merged: dict[Any, Any] = {}


class _Builder:
    """Builds Python values straight from the parser's events, in one pass.

    No node tree is made. On the way it records the line of every mapping key,
    refuses duplicate keys, tags beyond YAML's core schema, nesting deeper than
    MAX_DEPTH and aliases that expand past MAX_NODES values, and applies `<<`
    merge keys (own keys win). Aliases share the anchored value.
    """

    def __init__(self, most_written: int | None = None) -> None:
        self.most_written = most_written
        self.lines: dict[Path, int] = {}
        self.root_line: int | None = None
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.total = 0

    def build(self, text: str) -> Any:
        stack: list[_Frame] = []
        root: Any = None
        documents = 0
        written = 0  # keys and values: scalars, aliases, mappings and lists (not their ends)
        for event in yaml.parse(text, Loader=Loader):
            kind = type(event)
            if kind in _WRITTEN and self.most_written is not None:
                written += 1
                if written > self.most_written:
                    line = event.start_mark.line + 1
                    raise TooLong(f"the document has more than {self.most_written:,} keys and values", line)
            if kind is yaml.ScalarEvent:
                value = self._scalar(event)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
                done, size = value, 1
            elif kind is yaml.AliasEvent:
                if event.anchor not in self.anchors:
                    raise YamlError(f"unknown alias `*{event.anchor}`", event.start_mark.line + 1)
                done, size = self.anchors[event.anchor]
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._check_tag(event, "map" if kind is yaml.MappingStartEvent else "seq")
                path = self._child_path(stack[-1]) if stack else ()
                if not stack:
                    self.root_line = event.start_mark.line + 1
                elif isinstance(stack[-1].value, list):  # a list item's line, e.g. one hook's
                    self.lines[path] = event.start_mark.line + 1
                stack.append(_Frame({} if kind is yaml.MappingStartEvent else [], path, event.anchor))
                if len(stack) > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise YamlError(f"the document nests deeper than {MAX_DEPTH} levels", line)
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                done, size = frame.value, frame.size
                if kind is yaml.MappingEndEvent and frame.merged:
                    done = {**frame.merged, **frame.value}
                if frame.anchor:
                    self.anchors[frame.anchor] = (done, size)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlError(
                        "the file holds more than one YAML document; a replication is one mapping",
                        event.start_mark.line + 1,
                    )
                continue
            else:
                continue
            self.total += size
            if self.total > MAX_NODES:
                raise YamlError(
                    f"the document expands to more than {MAX_NODES:,} values "
                    "(aliases repeating aliases?); refused",
                    event.start_mark.line + 1,
                )
            if not stack:
                if self.root_line is None:
                    self.root_line = event.start_mark.line + 1
                root = "<<" if done is _MERGE else done
            else:
                self._add(stack[-1], done, size, event)
        return root

    def _child_path(self, frame: _Frame) -> Path:
        if isinstance(frame.value, list):
            return (*frame.path, len(frame.value))
        if frame.key is None:
            return frame.path  # a collection used as a key: refused in _add
        return frame.path if frame.key is _MERGE else (*frame.path, frame.key[0])

    def _add(self, frame: _Frame, value: Any, size: int, event: Any) -> None:
        frame.size += size
        if value is _MERGE and (frame.key is not None or isinstance(frame.value, list)):
            value = "<<"  # a plain `<<` anywhere but in a key is just text
        line = event.start_mark.line + 1
        if isinstance(frame.value, list):
            if type(event) is not yaml.MappingEndEvent and type(event) is not yaml.SequenceEndEvent:
                self.lines[(*frame.path, len(frame.value))] = line
            frame.value.append(value)
            return
        if frame.key is None:
            if type(event) is yaml.ScalarEvent and value is _MERGE:
                frame.key = _MERGE
                return
            try:
                hash(value)
            except TypeError:
                raise YamlError("a mapping key must be a plain value, not a list or mapping", line) from None
            if value in frame.value:
                first = self.lines[(*frame.path, value)]
                raise YamlError(f"duplicate key `{value}` (first defined on line {first})", line)
            self.lines[(*frame.path, value)] = line
            frame.key = (value,)
            return
        if frame.key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, dict) for source in sources):
                raise YamlError("`<<` merges mappings only", line)
            for source in sources:
                for key, item in source.items():
                    frame.merged.setdefault(key, item)
        else:
            frame.value[frame.key[0]] = value
        frame.key = None

    def _check_tag(self, event: Any, kind: str) -> None:
        if event.tag not in (None, "!", f"tag:yaml.org,2002:{kind}"):
            raise YamlError(f"cannot read value: unknown tag `{event.tag}`", event.start_mark.line + 1)

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        value = event.value
        if event.tag in (None, "!"):
            if not event.implicit[0]:  # quoted: always text
                return value
            tag = self.resolver.resolve(yaml.ScalarNode, value, (True, False))
        else:
            tag = event.tag
        if tag in (_STR_TAG, _TIMESTAMP_TAG):
            # Timestamps stay text, as Sling's YAML reader keeps them: a datetime
            # would turn `datetime_format: 2006-01-02 15:04:05.000000 -07` into another layout.
            return value
        if tag == _MERGE_TAG:
            return _MERGE
        if tag not in _SCALAR_TAGS:
            raise YamlError(f"cannot read value: unknown tag `{tag}`", event.start_mark.line + 1)
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ValueError, yaml.YAMLError):
            kind = tag.rsplit(":", 1)[-1]
            raise YamlError(f"cannot read value `{value}` as {kind}", event.start_mark.line + 1) from None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__} value"


class _CanonicalDumper(Dumper):  # type: ignore[misc, valid-type]
    """Block style, lists of scalars in flow style, multi-line strings as `|` blocks,
    nested maps sorted by key (Sling reads them into Go maps, so order carries no
    meaning, and PostgreSQL's jsonb does not keep it), and no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and value.strip("\n") and not value.endswith("\n\n"):
        # A `|` block; never `|+`, whose kept trailing lines would swallow the blank
        # line `emit` puts before the next section.
        return dumper.represent_scalar(_STR_TAG, str(value), style="|")
    # Text that reads as a date (`2020-01-15 00:00:00`) is quoted, as any other text that reads
    # as something else: Sling reads both as the same text, PyYAML (so dagster-sling) reads
    # the plain one as a datetime, which it then cannot write to JSON.
    return dumper.represent_scalar(_STR_TAG, str(value))


def _represent_none(dumper: yaml.SafeDumper, value: None) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:null", "")


_SCALARS = (str, int, float, bool, type(None), datetime.date)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    flow = bool(value) and all(
        isinstance(v, _SCALARS) and not (isinstance(v, str) and "\n" in v) for v in value
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.MappingNode:
    if isinstance(value, _Ordered):
        items = list(value.items())
    else:
        items = sorted(value.items(), key=_nested_sort_key)
    return dumper.represent_mapping("tag:yaml.org,2002:map", items)


def _nested_sort_key(item: tuple[Any, Any]) -> tuple[int, str, str]:
    key = item[0]
    # `type` leads in hook and connection maps, where readers look for it first.
    return (0 if key == "type" else 1, type(key).__name__, str(key))


class _Ordered(dict):  # type: ignore[type-arg]
    """A dict whose written order is the canonical one (top level, streams, stream configs)."""


_CanonicalDumper.add_representer(str, _represent_str)
_CanonicalDumper.add_representer(type(None), _represent_none)
_CanonicalDumper.add_representer(list, _represent_list)
_CanonicalDumper.add_representer(dict, _represent_dict)
_CanonicalDumper.add_representer(_Ordered, _represent_dict)
