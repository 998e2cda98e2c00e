"""The replication.yaml people keep in git, edited in place.

`patch_text(text, old, new, renames)`: `text` reads as `old`; the result reads as `new`
and differs from `text` only where `new` differs from `old`. Where a change cannot be
made in place (`PatchError`), the whole document is written in the canonical layout
(`yamlio.emit`): data right, layout lost.

How (`patch`): one pass of libyaml's event parser indexes the character span of every
node (streams nothing changes only lightly); each change splices its own span: a scalar
in its own quoting, a flow collection with its own spacing, a block scalar at its own
indentation keeping its unchanged lines; new keys and streams go after their last
sibling, in the file's indentation; a deleted entry takes the comment lines directly
above it; a rename rewrites the key alone. The result is read back (only what changed,
`verify="local"`) and must read as `new`. Anchors: a change reached through an alias or
a `<<` merge is written at that one use; a change inside a node whose anchor other
aliases use is refused (SharedNodeError, so the canonical layout).

It only ever sees text `yamlio.parse` accepted (size, depth and alias limits).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from replication.config import ReplicationConfig
from replication.yamlio import emit

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 64
FULL_STREAMS = 20  # streams always indexed whole, to learn the file's indentation
_NONE = object()
_resolver = yaml.resolver.Resolver()


class PatchError(ValueError):
    """This change cannot be made in place; re-emit the document instead."""


class SharedNodeError(PatchError):
    """The change falls inside an anchored node that aliases elsewhere reuse."""


class _ReadLoader(_Loader):  # type: ignore[misc, valid-type]
    """Timestamps stay text, as the studio's reader and Sling read them."""


_ReadLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def load(text: str) -> Any:
    return yaml.load(text, Loader=_ReadLoader)  # noqa: S506 - a SafeLoader that keeps timestamps text


class Node:
    """kind ("scalar", "alias", "map", "seq"), span, style; `items` is [[key, value], ...]
    or [value, ...], None for a stream indexed lightly (its span only)."""

    __slots__ = ("anchor", "end", "flow", "items", "keys", "kind", "start", "style", "tag", "value")

    def __init__(self, kind: str, start: int, end: int, ev: Any, flow: bool = False) -> None:
        self.kind, self.start, self.end, self.flow, self.items, self.keys = kind, start, end, flow, [], None
        self.anchor, self.tag = (None, None) if kind == "alias" else (ev.anchor, ev.tag)
        self.style, self.value = (ev.style or "", ev.value) if kind == "scalar" else ("", None)


def index(text: str, keep: set | None = None) -> tuple[Node, set[str]]:
    """The node tree (a block collection spans its first key or dash to its last child's
    end; a block scalar ends at its last content character) and the anchors aliases use.
    With `keep`, streams past the first FULL_STREAMS and not in `keep` are not looked into."""
    S, A, MS, SS, ME, SE = (
        yaml.ScalarEvent,
        yaml.AliasEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
        yaml.MappingEndEvent,
        yaml.SequenceEndEvent,
    )
    stack: list[Node] = []
    root, aliased, skip, last, streams, seen, hint, flows = None, set(), 0, None, None, 0, None, []
    for ev in yaml.parse(text, Loader=_Loader):
        kind = type(ev)
        if skip:  # inside a stream that needs no index: its end is all we need
            if kind is MS or kind is SS:
                flows.append(ev.flow_style)
                if kind is SS and not ev.flow_style and hint is None and type(last) is S:  # `key:` then `- `
                    dash = text.rfind("-", 0, ev.end_mark.index + 1)
                    hint = dash - text.rfind("\n", 0, dash) - 1 - last.start_mark.column
            elif kind is S or kind is A or flows.pop():
                last = ev
                aliased.update([ev.anchor] if kind is A else ())
            skip += 1 if kind is MS or kind is SS else -1 if kind is ME or kind is SE else 0
            if skip:
                continue
            n = stack.pop()
            n.end = last.end_mark.index
            if type(last) is S and last.style in ("|", ">"):
                n.end = _block_end(text, last.start_mark.index, n.end)
        elif kind is S or kind is A:
            n = Node("scalar" if kind is S else "alias", ev.start_mark.index, ev.end_mark.index, ev)
            if kind is A:
                aliased.add(ev.anchor)
            elif n.style in ("|", ">"):
                n.end = _block_end(text, n.start, n.end)
        elif kind is MS or kind is SS:
            flow = bool(ev.flow_style)
            start = (ev.start_mark if flow else ev.end_mark).index  # after any `&anchor` / `!tag`
            if kind is SS and not flow:
                start = text.rfind("-", 0, start + 1)  # its first dash
            stack.append(Node("map" if kind is MS else "seq", start, start, ev, flow))
            if len(stack) > MAX_DEPTH:
                raise PatchError(f"nests deeper than {MAX_DEPTH} levels")
            if len(stack) == 2 and stack[0].items and stack[0].items[-1][0].value == "streams" and kind is MS:
                streams = stack[-1]
            elif keep is not None and len(stack) == 3 and stack[1] is streams and not flow:
                seen += 1
                if seen > FULL_STREAMS and streams.items[-1][0].value not in keep:
                    stack[-1].items, skip, flows = None, 1, [False]
            continue
        elif kind is ME or kind is SE:
            n = stack.pop()
            n.end = ev.end_mark.index if n.flow else (n.items[-1][-1] if n.kind == "map" else n.items[-1]).end
        else:
            continue
        if not stack:
            root = n
        elif stack[-1].kind == "seq" or not stack[-1].items or len(stack[-1].items[-1]) == 2:
            stack[-1].items.append(n if stack[-1].kind == "seq" else [n])
        else:
            stack[-1].items[-1].append(n)
    if root is None or root.kind != "map" or root.flow:
        raise PatchError("the document is not a block mapping")
    root.value = hint  # how far `- ` sits in from its key, seen in a stream not looked into
    return root, aliased


def _block_end(text: str, start: int, end: int) -> int:
    """A block scalar's last content character: trailing blank lines are chomped, but a
    line of spaces deeper than the content's indentation is content."""
    lines = text[start:end].split("\n")
    first = next((x for x in lines[1:] if x.strip()), "")
    indent, pos = len(first) - len(first.lstrip(" ")), end
    for line in reversed(lines):
        body, pos = line.rstrip("\r"), pos - len(line) - 1
        if body.strip() or len(body) > indent or line is lines[0]:
            return pos + 1 + len(body)
    return end


def _eq(a: Any, b: Any) -> bool:
    """Equal, with the same types throughout (1, 1.0 and True are written differently;
    text is text, whatever str subclass the reader used, e.g. yamlio's QuotedText)."""
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_eq(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_eq, a, b))
    return a == b


_PLAIN_BAD = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|[\s:]$|: | #|[\x00-\x1f\x7f]")


def _plain_ok(s: str, flow: bool) -> bool:
    if not s or _PLAIN_BAD.search(s) or (flow and re.search(r"[,\[\]{}]", s)):
        return False
    return _resolver.resolve(yaml.ScalarNode, s, (True, False)) == "tag:yaml.org,2002:str"


def scalar(value: Any, style: str = "", flow: bool = False) -> str:
    """One-line text for `value`, in `style` ('', "'", '"') when it can be written so."""
    if isinstance(value, str):
        if style == "'" and value.isprintable():
            return "'" + value.replace("'", "''") + "'"
        if style == '"' or not value.isprintable():
            return (
                yaml.dump(value, default_style='"', width=2**31 - 1, allow_unicode=True)
                .rstrip("\n.")
                .rstrip()
            )
        if _plain_ok(value, flow) or (value[:1] == "-" and value[1:2] != " " and _plain_ok(value[1:], flow)):
            return value
        return scalar(value, "'")
    if value is None:
        return "null" if flow else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return yaml.safe_dump(value).split("\n")[0]
    if isinstance(value, (list, dict)):
        return inline(value, "")
    raise PatchError(f"cannot write a {type(value).__name__}")


def inline(value: Any, pad: str) -> str:
    """Flow style: `[a, b]`, `{k: v}`; `pad` is the space kept inside the brackets."""
    if isinstance(value, list):
        return "[" + pad + ", ".join(inline(v, pad) for v in value) + pad + "]" if value else "[]"
    if isinstance(value, dict):
        body = ", ".join(f"{scalar(k, flow=True)}: {inline(v, pad)}" for k, v in value.items())
        return "{" + pad + body + pad + "}" if value else "{}"
    return scalar(value, flow=True)


def _simple(value: Any) -> bool:
    """Written on one line: scalars, and lists of one-line scalars (`primary_key: [id]`)."""
    if isinstance(value, list):
        return all(not isinstance(v, (list, dict)) and _simple(v) for v in value)
    return not value if isinstance(value, dict) else not isinstance(value, str) or "\n" not in value


class Patcher:
    def __init__(self, text: str, keep: set | None = None) -> None:
        self.text, self.splices = text, []
        self.root, self.aliased = index(text, keep)
        self.nl = "\r\n" if "\r\n" in text else "\n"
        self.unit, self.off = self._style()

    def bol(self, i: int) -> int:
        return self.text.rfind("\n", 0, i) + 1

    def eol(self, i: int) -> int:
        """Just past the line break of the line holding `i` (or the end of the text)."""
        j = self.text.find("\n", i)
        return len(self.text) if j < 0 else j + 1

    def col(self, i: int) -> int:
        return i - self.bol(i)

    def _line(self, i: int) -> str:
        return self.text[self.bol(i) : self.eol(i)].strip()

    def _own_line(self, i: int) -> bool:
        return not self.text[self.bol(i) : i].strip()

    def _style(self) -> tuple[int, int]:
        """The indentation of nested mappings, and of `- ` under a key, most seen first."""
        unit = off = None
        stack, budget = [self.root], 2000
        while stack and (unit is None or off is None) and budget > 0:
            node, budget = stack.pop(), budget - 1
            for key, val in node.items if node.kind == "map" and node.items else []:
                if val.kind in ("map", "seq") and not val.flow and self._own_line(val.start):
                    step = self.col(val.start) - self.col(key.start)
                    unit = step if val.kind == "map" and unit is None and step > 0 else unit
                    off = step if val.kind == "seq" and off is None else off
                    stack.append(val)
        off = off if off is not None else self.root.value
        return unit or 2, off if off is not None and off >= 0 else (unit or 2)

    def _props_end(self, node: Node) -> int:
        """Where a node's text starts after its anchor and tag."""
        m = (
            re.match(r"(?:[&!]\S*\s+)*", self.text[node.start : node.end])
            if node.anchor or node.tag
            else None
        )
        return node.start + (m.end() if m else 0)

    def _shared(self, node: Node) -> None:
        """Refuse to rewrite `node` if it holds an anchor that aliases use."""
        nodes = [node]
        while nodes:
            n = nodes.pop()
            if n.anchor in self.aliased:
                raise SharedNodeError(f"`&{n.anchor}` is used by aliases elsewhere")
            nodes += [x for item in n.items or () for x in (item if n.kind == "map" else [item])]

    def splice(self, a: int, b: int, s: str) -> None:
        self.splices.append((a, b, s))

    def apply(self) -> str:
        out, last = [], len(self.text)
        # From the end; of two inserts at one place, the one made first stays first.
        for i in sorted(range(len(self.splices)), key=lambda i: (*self.splices[i][:2], i), reverse=True):
            a, b, s = self.splices[i]
            if b > last:
                raise PatchError("two edits overlap")
            out += [self.text[b:last], s]
            last = a
        return self.text[:last] + "".join(reversed(out))

    # --- new text -------------------------------------------------------------------------
    def block(self, value: Any, col: int) -> list[str]:
        """Lines of a block collection whose keys (or dashes) start at column `col`."""
        pad, lines = " " * col, []
        if isinstance(value, list):
            for v in value:
                sub = self.block(v, col + 2) if v and not _simple(v) else []
                lines += [pad + "- " + sub[0].lstrip(), *sub[1:]] if sub else [pad + "- " + scalar(v)]
            return lines
        for k, v in value.items():
            head = pad + scalar(k) + ":"
            if isinstance(v, str) and "\n" in v:
                lines += [head + " " + self._header(v, "|", self.unit), *self._body(v, col + self.unit)]
            elif _simple(v) or not v:
                lines.append((head + " " + (inline(v, "") if isinstance(v, list) else scalar(v))).rstrip())
            else:
                lines += [head, *self.block(v, col + (self.off if isinstance(v, list) else self.unit))]
        return lines

    def _header(self, v: str, style: str, indent: int) -> str:
        """`|`, `|-`, `>`..., with an indentation indicator if the text starts with a space."""
        if v.endswith("\n\n"):
            raise PatchError("this text needs `|+` chomping")
        lead = v.lstrip("\n")[:1] == " "
        return style + (str(indent) if lead else "") + ("" if v.endswith("\n") else "-")

    def _body(self, v: str, col: int, old: list[str] | None = None) -> list[str]:
        """Lines of block text `v` at column `col`; lines the same as in `old` (the raw lines
        it replaces) are kept as they were written (spaces on blank lines too)."""
        lines = [" " * col + x if x else "" for x in (v[:-1] if v.endswith("\n") else v).split("\n")]
        raw = [x.rstrip("\r") for x in old or ()]
        sm = difflib.SequenceMatcher(None, [x if x.strip() else "" for x in raw], lines, autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes() if old else ():
            lines[j1:j2] = raw[i1:i2] if op == "equal" else lines[j1:j2]
        return lines

    def _fold(self, v: str, old: list[str], header: str) -> list[str] | None:
        """Lines for folded (`>`) text `v` keeping all old lines but one; libyaml tells what
        part of the text each old line gives (folding has too many rules to redo here)."""
        raw, token = [x.rstrip("\r") for x in old], "Zq9PATCHq9Z"
        read = lambda lines: load("k: " + header + "\n" + "\n".join(lines) + "\n")["k"]  # noqa: E731
        for i, line in enumerate(raw):
            lead = line[: len(line) - len(line.lstrip(" "))]
            if line.strip():
                a, _, b = read([*raw[:i], lead + token, *raw[i + 1 :]]).partition(token)
                if v.startswith(a) and v.endswith(b) and len(a) + len(b) <= len(v):
                    lines = [*raw[:i], lead + v[len(a) : len(v) - len(b)], *raw[i + 1 :]]
                    if "\n" not in lines[i] and read(lines) == v:
                        return lines
        return None

    def _insert(self, at: int, lines: list[str], blank: bool = False, final: bool = False) -> None:
        """Lines inserted at line start `at`; at the end of a file without a final newline
        they go after one and none follows them, unless a block text there needs it."""
        text = self.nl.join([""] * blank + lines)
        if at == len(self.text) and not self.text.endswith("\n"):
            final = final or any(re.search(r"[|>][-+0-9]*$", x) for x in lines)
            self.splice(at, at, self.nl + text + self.nl * final)
        else:
            self.splice(at, at, text + self.nl)

    # --- entries ----------------------------------------------------------------------------
    def _region(self, node: Node, i: int) -> tuple[int, int]:
        """Entry `i`'s lines, the comment lines directly above it (up to a blank line or the
        entry before) and the comment lines below it indented deeper than its key."""
        first = node.items[i][0] if node.kind == "map" else node.items[i]
        start = self.text.rfind("-", 0, first.start) if node.kind == "seq" else first.start
        if not self._own_line(start):
            raise PatchError("the entry shares its line with its parent")
        end = lambda j: (node.items[j][-1] if node.kind == "map" else node.items[j]).end  # noqa: E731
        a, b, c = self.bol(start), self.eol(end(i)), self.col(start)
        while a > (self.eol(end(i - 1)) if i else 0) and self._line(a - 1).startswith("#"):
            a = self.bol(a - 1)
        nxt = node.items[i + 1] if i + 1 < len(node.items) else None
        ceiling = (nxt[0] if node.kind == "map" else nxt).start if nxt else len(self.text)
        while b < ceiling and self._line(b).startswith("#") and self.col(self.text.index("#", b)) > c:
            b = self.eol(b)
        return a, b

    def delete(self, node: Node, i: int) -> None:
        if node.flow:
            raise PatchError("deleting from a flow collection")
        a, b = self._region(node, i)
        self._shared(node.items[i][-1] if node.kind == "map" else node.items[i])
        if (a == 0 or not self._line(a - 1)) and b < len(self.text) and not self._line(b):
            a, b = (self.bol(a - 1), b) if a else (a, self.eol(b))  # one blank line stays, not two
        self.splice(a, b, "")

    def keys(self, node: Node) -> dict[Any, int]:
        if node.keys is None:
            node.keys = {}
            for i, (k, *_) in enumerate(node.items):
                plain = k.kind == "scalar" and not k.style and not k.tag
                tag = _resolver.resolve(yaml.ScalarNode, k.value, (True, False)) if plain else ":str"
                node.keys[k.value if tag[-4:] in (":str", "erge") else load(self.text[k.start : k.end])] = i
        return node.keys

    def streams(self) -> Node | None:
        i = self.keys(self.root).get("streams")
        return None if i is None else self.root.items[i][1]

    def update(self, node: Node, old: dict, new: dict, renames: dict | None = None) -> None:
        """Make block mapping `node`, read as `old`, read as `new`."""
        own, old = dict(self.keys(node)), dict(old)
        for was, now in (renames or {}).items():
            key = node.items[own[was]][0]
            self.splice(self._props_end(key), key.end, scalar(now, key.style))
            own[now], old[now] = own.pop(was), old.pop(was)
        for k in old:
            if k not in new:
                if k not in own or "<<" in own:  # a `<<` merge may give it still
                    raise PatchError(f"cannot delete `{k}` from a mapping with a `<<` merge")
                self.delete(node, own[k])
        after, pending = None, {}
        for k, v in new.items():
            if k not in own:  # new, or given by a `<<` merge: set it on this mapping if it changed
                if not (k in old and _eq(old[k], v)):
                    pending.setdefault(after, {})[k] = v
                continue
            if not (k in old and _eq(old[k], v)):
                key, val = node.items[own[k]]
                self.value(val, old.get(k, _NONE), v, key.end + 1, self.col(key.start))
            after = own[k]
        for after, values in pending.items():
            self._add(node, after, values)

    def _add(self, node: Node, after: int | None, values: dict) -> None:
        if node.flow:
            raise PatchError("adding to a flow mapping")
        col = self.col(node.items[0][0].start)
        if after is None:
            return self._insert(self._region(node, 0)[0], self.block(values, col))
        seps = [not self._line(self._region(node, i)[0] - 1) for i in range(1, min(len(node.items), 200))]
        blank = node in (self.streams(), self.root) and sum(seps) * 2 > len(seps) > 0
        self._insert(self._region(node, after)[1], self.block(values, col), blank)

    def value(self, val: Node, old: Any, new: Any, after: int, col: int, item: bool = False) -> None:
        """Rewrite node `val` from `old` to `new`; `after` is just past its key's `:` (or its
        dash), `col` that key's (or dash's) column; `item`: a sequence item."""
        if val.anchor in self.aliased:
            raise SharedNodeError(f"`&{val.anchor}` is used by aliases elsewhere")
        block, mark = val.kind in ("map", "seq") and not val.flow, len(self.splices)
        try:
            if block and val.kind == "map" and isinstance(old, dict) and isinstance(new, dict) and new:
                return self.update(val, old, new)
            if block and val.kind == "seq" and isinstance(old, list) and isinstance(new, list) and new:
                if len(old) == len(new):
                    for node, o, n in zip(val.items, old, new, strict=True):
                        dash = self.text.rfind("-", 0, node.start)
                        if not _eq(o, n):
                            self.value(node, o, n, dash + 1, self.col(dash), item=True)
                    return
                if len(new) > len(old) and all(map(_eq, old, new[: len(old)])):
                    at = self._region(val, len(old) - 1)[1]
                    return self._insert(at, self.block(new[len(old) :], self.col(val.start)))
                i = next((i for i in range(len(new)) if not _eq(old[i], new[i])), len(new))
                if len(new) == len(old) - 1 and all(map(_eq, old[:i] + old[i + 1 :], new)):
                    return self.delete(val, i)
        except SharedNodeError:
            raise
        except PatchError:
            del self.splices[mark:]  # rewrite this value whole instead
        self._replace(val, new, after, col, item, block)

    def _replace(self, val: Node, new: Any, after: int, col: int, item: bool, block: bool) -> None:
        self._shared(val)
        start, end, text, bs = self._props_end(val), val.end, self.text, val.style in ("|", ">")
        if isinstance(new, str) and (("\n" in new and val.style not in ("'", '"')) or bs):
            body_col, old = col + (2 if item else self.unit), None
            if bs:  # the old block's indentation, and its lines
                old = text[self.eol(start) : end].split("\n")
                first = next((x for x in old if x.strip()), "")
                body_col = len(first) - len(first.lstrip(" "))
            one_line = "\n" not in new.rstrip("\n")
            header = self._header(new, ">" if val.style == ">" and (old or one_line) else "|", body_col - col)
            if bs and re.match(r"[|>][-+0-9]*", text[start:end]).group() == header:  # same header
                lines = self._fold(new, old, header) if header[0] == ">" else None
                lines = lines or (self._body(new, body_col, old) if header[0] == "|" or one_line else None)
                if lines:
                    return self.splice(self.eol(start), end, self.nl.join(lines))
            if header[0] == ">" and not one_line:  # not foldable from the old lines: literal
                header = "|" + header[1:]
            self.splice(after if block else start, end, (" " if block or start == end else "") + header)
            return self._insert(self.eol(end), self._body(new, body_col, old), final=new.endswith("\n"))
        if _simple(new) or not new or val.flow or isinstance(new, str):
            pad = " " if val.flow and text[val.start + 1 : val.start + 2] == " " else ""
            one = (
                inline(new, pad)
                if isinstance(new, (list, dict))
                else scalar(new, val.style * (val.kind == "scalar"))
            )
            if block or start == end:
                start, one = (after if block else start), (" " if one else "") + one
            while not one and start > after and text[start - 1] == " ":  # None: `key:`
                start -= 1
            return self.splice(start, end, one)
        if item and not self._own_line(val.start):  # `- k: v`: the first line on the dash's line
            lines = self.block(new, self.col(val.start) if not block or val.kind == "map" else col + 2)
            return self.splice(val.start, end, lines[0].lstrip() + "".join(self.nl + x for x in lines[1:]))
        lines = self.block(new, col + (self.off if isinstance(new, list) else self.unit))
        if block:
            return self.splice(self.bol(val.start), self.eol(end), self.nl.join(lines) + self.nl)
        while start > after and text[start - 1] == " ":
            start -= 1
        self.splice(start, end, "")  # the key line keeps its comment; the block goes below it
        self._insert(self.eol(end), lines)


def patch(text: str, old: dict, new: dict, renames: dict | None = None, verify: str | None = "full") -> str:
    """`text` (read as `old`) rewritten to read as `new`; `renames`: old stream name -> new.
    `verify`: "full" reads the whole result back, "local" only what changed, None skips."""
    renames = renames or {}
    if _eq(old, new) and not renames:
        return text
    so, sn = old.get("streams"), new.get("streams")
    both = isinstance(so, dict) and isinstance(sn, dict)
    touched = {k for k in {*so, *sn} if not _eq(so.get(k, _NONE), sn.get(k, _NONE))} if both else set()
    touched |= {*renames, *renames.values()}
    p = Patcher(text, {str(k) for k in touched} if both else None)
    root_old, root_new, streams = dict(old), dict(new), p.streams()
    if both and streams is not None and streams.kind == "map" and not streams.flow:
        root_old["streams"] = root_new["streams"] = None  # done here, in place
        p.update(streams, so, sn, renames)
    elif renames:
        raise PatchError("renames need a block `streams` mapping")
    p.update(p.root, root_old, root_new)
    out = p.apply()
    if verify == "full":
        got = load(out)
        if not _eq(got, new) or list(got.get("streams") or ()) != list(sn or ()):
            raise PatchError("the patched text does not read back as the new data")
    elif verify == "local":
        _verify_local(out, old, new, {k for k in touched if k in sn} if both else set())
    return out


def _verify_local(out: str, old: dict, new: dict, streams: set) -> None:
    """The result parses; it has `new`'s top-level keys, and its stream names in `new`'s
    order; each changed top-level entry and stream reads back (from its lines) as in `new`."""
    p = Patcher(out, set())
    if p.keys(p.root).keys() != new.keys():
        raise PatchError("top-level keys differ after the patch")
    s = p.streams()
    entries = [(p.root, k, new[k]) for k in new if k != "streams" and not _eq(old.get(k, _NONE), new[k])]
    if s is not None and s.kind == "map" and not s.flow:
        if list(p.keys(s)) != list(new["streams"]):
            raise PatchError("stream names differ after the patch")
        entries += [(s, k, new["streams"][k]) for k in streams]
    elif "streams" in new and not _eq(old.get("streams"), new["streams"]):
        entries.append((p.root, "streams", new["streams"]))
    for node, k, want in entries:
        key, val = node.items[p.keys(node)[k]]
        try:
            got = load(out[p.bol(key.start) : p.eol(max(val.end, key.end))])
        except yaml.YAMLError:  # an alias of an anchor elsewhere: read it all
            got = load(out) if node is p.root else load(out)["streams"]
        if not isinstance(got, dict) or not _eq(got.get(k, _NONE), want):
            raise PatchError(f"`{k}` does not read back as intended")


def patch_text(
    text: str, old: ReplicationConfig, new: ReplicationConfig, renames: dict[str, str] | None = None
) -> str:
    """`text` (which reads as `old`) made to read as `new`, changing only what changed; the
    canonical layout of `new` when that cannot be done in place. `renames`: stream old name
    -> new (a renamed stream keeps its comments)."""
    before, after = old.to_dict(), new.to_dict()
    renames = {k: v for k, v in (renames or {}).items() if k != v and k in before.get("streams", {})}
    if _eq(before, after) and not renames:
        return text
    bom = "\ufeff" * text.startswith("\ufeff")  # kept, outside what libyaml indexes
    try:
        return bom + patch(text[len(bom) :], before, after, renames, verify="local")
    except (PatchError, yaml.YAMLError, KeyError, IndexError, ValueError):
        return emit(new)
