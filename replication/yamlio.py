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

from replication.model import Replication

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


@dataclass(slots=True)
class Document:
    replication: Replication
    # Path of a mapping key, e.g. ("streams", "public.users", "mode") -> its line.
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def parse(source: str | bytes) -> Document:
    """Parse a replication document. Raises `YamlError` with a line number."""
    data, lines = load_mapping(source, "a mapping with source, target and streams")
    return Document(Replication.from_dict(data), lines)


def load_mapping(source: str | bytes, expected: str) -> tuple[dict[Any, Any], dict[Path, int]]:
    """Any YAML document that must be a mapping, with the line of every key."""
    text = _decode(source)
    _check_shape(text)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, text) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlError(f"the document is empty; expected {expected}", 1)
    builder = _Builder(loader)
    data = builder.build(node, ())
    if not isinstance(data, dict):
        raise YamlError(f"expected {expected}, found {_kind(data)}", node.start_mark.line + 1)
    return data, builder.lines


def emit(replication: Replication) -> str:
    doc = _Ordered(replication.to_dict())
    if isinstance(doc.get("defaults"), dict):
        doc["defaults"] = _Ordered(doc["defaults"])
    if isinstance(doc.get("streams"), dict):
        doc["streams"] = _Ordered(
            {name: _Ordered(c) if isinstance(c, dict) else c for name, c in doc["streams"].items()}
        )
    text = dump(doc)
    # A blank line before each top-level section after source/target, as people write it.
    # Lines at column 0 are always top-level keys: nested content is indented.
    lines = text.splitlines(keepends=True)
    return "".join(
        "\n" + line if i > 1 and line[:1] not in ("", " ", "\n", "-") else line
        for i, line in enumerate(lines)
    )


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


def _decode(source: str | bytes) -> str:
    if isinstance(source, str):
        if len(source) > MAX_BYTES:
            raise YamlError(f"the document is larger than {MAX_BYTES // 1024 // 1024} MB")
        return source
    if len(source) > MAX_BYTES:
        raise YamlError(f"the document is larger than {MAX_BYTES // 1024 // 1024} MB")
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        raise YamlError(f"not UTF-8 text: byte 0x{source[exc.start]:02x} cannot be read", line) from None


def _check_shape(text: str) -> None:
    """Refuse deep nesting and alias bombs from the event stream, before building anything.

    Counting on events keeps this linear in the size of the text, and the C
    composer used afterwards never sees nesting deep enough to exhaust its stack.
    """
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    stack: list[list[Any]] = []  # [anchor, count] per open collection
    total = 0
    try:
        for event in yaml.parse(text, Loader=Loader):
            kind = type(event)
            if kind is yaml.ScalarEvent or kind is yaml.AliasEvent:
                count = 1 if kind is yaml.ScalarEvent else sizes.get(event.anchor, 1)
                if kind is yaml.ScalarEvent and event.anchor:
                    sizes[event.anchor] = 1
                total += count
                if stack:
                    stack[-1][1] += count
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                stack.append([event.anchor, 1])
                if len(stack) > MAX_DEPTH:
                    raise YamlError(
                        f"the document nests deeper than {MAX_DEPTH} levels",
                        event.start_mark.line + 1,
                    )
                total += 1
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                anchor, count = stack.pop()
                if anchor:
                    sizes[anchor] = count
                if stack:
                    stack[-1][1] += count
            elif kind is yaml.DocumentStartEvent and total:
                raise YamlError(
                    "the file holds more than one YAML document; a replication is one mapping",
                    event.start_mark.line + 1,
                )
            if total > MAX_NODES:
                raise YamlError(
                    f"the document expands to more than {MAX_NODES:,} values "
                    "(aliases repeating aliases?); refused",
                    event.start_mark.line + 1,
                )
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, text) from None


def _marked_error(exc: yaml.MarkedYAMLError, text: str) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = exc.problem or exc.context or "cannot be read"
    message = f"not valid YAML: {problem}"
    if line is not None:
        source_line = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
        if ": {" in source_line and "}" in source_line:
            message += " (a value that starts with `{` must be quoted, e.g. object: '{stream_table}')"
    return YamlError(message, line)


class _Builder:
    """Turns composed nodes into Python values, recording the line of every key."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.lines: dict[Path, int] = {}

    def build(self, node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _TIMESTAMP_TAG:
            # Timestamps stay text, as Sling's YAML reader keeps them: a datetime
            # would turn `datetime_format: 2006-01-02 15:04:05.000000 -07` into another layout.
            return node.value
        if node.tag == _STR_TAG:
            if node.value[:1].isdigit() and _TIMESTAMP.match(node.value):
                return QuotedText(node.value)
            return node.value
        try:
            return self.loader.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else node.start_mark.line + 1
            raise YamlError(f"cannot read value: {exc.problem}", line) from None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        merged: dict[Any, Any] = {}
        own: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                for source in self._merge_sources(value_node):
                    merged.update(self._mapping(source, path))
                continue
            key = self.build(key_node, path)
            try:
                hash(key)
            except TypeError:
                raise YamlError(
                    "a mapping key must be a plain value, not a list or mapping",
                    key_node.start_mark.line + 1,
                ) from None
            line = key_node.start_mark.line + 1
            if key in own:
                first = self.lines[(*path, key)]
                raise YamlError(f"duplicate key `{key}` (first defined on line {first})", line)
            self.lines[(*path, key)] = line
            own[key] = self.build(value_node, (*path, key))
        merged.update(own)
        return merged

    @staticmethod
    def _merge_sources(node: yaml.Node) -> list[yaml.MappingNode]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for item in items:
            if not isinstance(item, yaml.MappingNode):
                raise YamlError("`<<` merges mappings only", item.start_mark.line + 1)
        return items


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
_TIMESTAMP = yaml.constructor.SafeConstructor.timestamp_regexp


class QuotedText(str):
    """Text that was quoted in the input although it reads as a date (`'2024-01-01'`).

    Plain dates are kept as text too; this tells the two apart so each is
    written back as it came. (Stored in the database it becomes plain `str`:
    Sling reads the same text either way.)
    """

    __slots__ = ()


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar(_STR_TAG, str(value), style="|")
    if type(value) is str and dumper.resolve(yaml.ScalarNode, value, (True, False)) == _TIMESTAMP_TAG:
        # Written plain, as it is read: a loader that resolves timestamps gets the same
        # value from our output as from the input, and Sling gets the same text.
        return dumper.represent_scalar(_TIMESTAMP_TAG, value)
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
_CanonicalDumper.add_representer(QuotedText, _represent_str)
_CanonicalDumper.add_representer(type(None), _represent_none)
_CanonicalDumper.add_representer(list, _represent_list)
_CanonicalDumper.add_representer(dict, _represent_dict)
_CanonicalDumper.add_representer(_Ordered, _represent_dict)
