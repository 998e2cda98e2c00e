"""A Dagster code location for replications: the hand-off from the studio to Dagster.

`location_files` writes, as {relative path: text}:

- `replications/<name>/replication.yaml`: each replication's canonical export;
- `definitions.py`: one dagster-sling `@sling_assets` per replication, a
  `SlingResource` with a `SlingConnectionResource` per studio connection the
  replications name (public fields written out, every secret read with
  `dg.EnvVar("<CONNECTION>_<FIELD>")`), and the downstream assets as
  `dg.AssetSpec`s with the studio's keys and deps;
- `.env.example`: the names of those environment variables, without values.

Secret values never reach this module: a connection comes with the names of its
secret fields only.

Where the studio's lineage differs from what dagster-sling's default translator
derives from `replication.yaml` (a custom translator is configured, or a stream
reads the table another replication writes, which the studio joins), the
generated `StudioTranslator` gives those streams the studio's key and deps, so
the Dagster asset graph has the studio's keys and edges either way.
"""

from __future__ import annotations

import io
import json
import keyword
import re
import string
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import networkx as nx

from replication.config import ReplicationConfig
from replication.connections import is_url_secret
from replication.lineage.graph import DOWNSTREAM, TARGET, owner
from replication.sling import needed_connections
from replication.translator import AssetKey, DagsterSlingTranslator, stream_definitions
from replication.yamlio import emit

_NOT_IDENT = re.compile(r"\W", re.ASCII)
# Dagster's rules: group names are `[A-Za-z0-9_]` segments; tag keys an optional
# `prefix/` and a name of `[A-Za-z0-9_.-]`, each at most 63 characters.
_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_/]")
_TAG_KEY = re.compile(r"^(?:[A-Za-z0-9_.-]{1,63}/)?[A-Za-z0-9_.-]{1,63}$")
# Fields SlingConnectionResource takes as its own arguments.
_RESERVED = frozenset({"name", "type", "connection_string"})


@dataclass(frozen=True, slots=True)
class Connection:
    """A studio connection as the export sees it: public fields and the names of its secret ones
    (`password`, or `url:password` for a URL's password, as `connections.split_secrets` names them)."""

    name: str
    type: str
    params: Mapping[str, Any]
    secret_fields: tuple[str, ...] = ()


class KeyConflict(ValueError):
    """Two assets of the location would have one key: Dagster refuses such definitions."""

    def __init__(self, clashes: Mapping[AssetKey, list[str]]) -> None:
        said = "; ".join(
            f"`{'/'.join(key)}` is defined by {' and '.join(owners)}"
            for key, owners in list(clashes.items())[:3]
        )
        more = f" (and {len(clashes) - 3} more)" if len(clashes) > 3 else ""
        super().__init__(f"Dagster refuses two assets with one key: {said}{more}")
        self.clashes = dict(clashes)


def env_var(connection: str, field: str) -> str:
    """The environment variable that holds a connection's secret field: `PG_PASSWORD`."""
    return re.sub(r"[^A-Z0-9_]", "_", f"{connection}_{field}".upper())


def location_files(
    replications: Sequence[tuple[str, ReplicationConfig]],
    graph: nx.DiGraph,
    connections: Iterable[Connection],
    *,
    translator: str | None = None,
    every_downstream: bool = False,
    texts: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The code location of `replications` (name, config), whose studio lineage is `graph`.

    `translator` names the studio's configured translator class, if any (said in
    the generated file). The downstream assets are those of `graph` that read,
    directly or through other downstream assets, an asset of these replications;
    all of them with `every_downstream` (the whole lineage exported). Raises
    `KeyConflict` when two of those assets have one key. Each replication's YAML is its
    text in `texts` (the file as people keep it), else the canonical one.
    """
    idents = _identifiers([name for name, _ in replications])
    targets = {
        (attrs.get("replication"), attrs.get("stream")): node
        for node, attrs in graph.nodes(data=True)
        if attrs.get("kind") == TARGET
    }
    by_name = {c.name.upper(): c for c in connections}
    files: dict[str, str] = {}
    blocks: list[str] = []
    used: dict[str, Connection] = {}
    foreign: list[str] = []
    for name, config in replications:
        files[f"replications/{name}/replication.yaml"] = (texts or {}).get(name) or emit(config)
        blocks.append(_assets_block(name, idents[name], _overrides(name, config, graph, targets)))
        for conn in needed_connections(config):
            if conn.upper() in by_name:
                used.setdefault(conn.upper(), by_name[conn.upper()])
            elif conn not in foreign:
                foreign.append(conn)
    if every_downstream:
        reach = set(graph)
    else:
        reach = _downstream_of(graph, [node for (rep, _), node in targets.items() if rep in idents])
    downstream = [
        (graph.nodes[node], sorted({graph.nodes[p]["key"] for p in graph.predecessors(node)}))
        for node in sorted(reach)
        if graph.nodes[node].get("kind") == DOWNSTREAM
    ]
    defined: dict[AssetKey, list[str]] = {}
    for (rep, _), node in targets.items():
        if rep in idents:
            defined.setdefault(graph.nodes[node]["key"], []).append(owner(graph.nodes[node]))
    for attrs, _ in downstream:
        defined.setdefault(attrs["key"], []).append(owner(attrs))
    clashes = {key: owners for key, owners in defined.items() if len(owners) > 1}
    if clashes:
        raise KeyConflict(clashes)
    conns = [used[name] for name in sorted(used)]
    files["definitions.py"] = _definitions(
        [name for name, _ in replications], idents, blocks, downstream, conns, foreign, translator
    )
    files[".env.example"] = _env_example(conns, foreign)
    return files


def _downstream_of(graph: nx.DiGraph, nodes: list[str]) -> set[str]:
    """The downstream assets that read `nodes`, directly or through other downstream assets
    (not through another replication's assets)."""
    seen: set[str] = set()
    frontier = list(nodes)
    while frontier:
        for node in graph.successors(frontier.pop()):
            if node not in seen and graph.nodes[node].get("kind") == DOWNSTREAM:
                seen.add(node)
                frontier.append(node)
    return seen


def zip_bytes(files: Mapping[str, str], folder: str) -> bytes:
    """The files in a zip, under `folder/`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            archive.writestr(f"{folder}/{path}", files[path])
    return buffer.getvalue()


def _identifiers(names: list[str]) -> dict[str, str]:
    """A distinct Python identifier (and Dagster op name) per replication name."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = _NOT_IDENT.sub("_", name) or "replication"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = f"r_{base}"
        ident, n = base, 2
        while ident in taken:
            ident, n = f"{base}_{n}", n + 1
        taken.add(ident)
        out[name] = ident
    return out


def _overrides(
    name: str, config: ReplicationConfig, graph: nx.DiGraph, targets: Mapping[tuple[Any, Any], str]
) -> dict[str, tuple[AssetKey, list[AssetKey]]]:
    """Streams whose studio key or deps differ from dagster-sling's default: stream -> (key, deps)."""
    default = DagsterSlingTranslator()
    out = {}
    for definition in stream_definitions(config):
        node = targets.get((name, definition["name"]))
        if node is None:
            continue
        key = graph.nodes[node]["key"]
        deps = sorted(graph.nodes[p]["key"] for p in graph.predecessors(node))
        spec = default.get_asset_spec(definition)
        if (spec.key, sorted(spec.deps)) != (key, deps):
            out[str(definition["name"])] = (key, deps)
    return out


# --- writing Python -------------------------------------------------------------------


def _py(value: Any) -> str:
    """A Python literal (JSON-like data only)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(str(k))}: {_py(v)}" for k, v in value.items()) + "}"
    return _py(str(value))


def _key(key: AssetKey) -> str:
    return f"dg.AssetKey({_py(list(key))})"


def _assets_block(name: str, ident: str, overrides: Mapping[str, tuple[AssetKey, list[AssetKey]]]) -> str:
    args = [f'replication_config=HERE / "replications" / {_py(name)} / "replication.yaml"', f'name="{ident}"']
    if overrides:
        lines = ["StudioTranslator(", "        {"]
        for stream, (key, deps) in overrides.items():
            lines.append(f"            {_py(stream)}: ({_py(list(key))}, {_py([list(d) for d in deps])}),")
        lines += ["        }", "    )"]
        args.append("dagster_sling_translator=" + "\n".join(lines))
    arguments = "".join(f"    {arg},\n" for arg in args)
    return (
        f"@sling_assets(\n{arguments})\n"
        f"def {ident}_assets(context: dg.AssetExecutionContext, sling: SlingResource):\n"
        "    yield from sling.replicate(context=context)\n"
    )


def _connection(conn: Connection) -> str:
    args = [f"name={_py(conn.name)}", f"type={_py(conn.type)}"]
    url_secret = any(is_url_secret(f) for f in conn.secret_fields)
    if url_secret:
        args.append(f'connection_string=dg.EnvVar("{env_var(conn.name, "url")}")')
    elif isinstance(conn.params.get("url"), str):
        args.append(f"connection_string={_py(conn.params['url'])}")
    odd: dict[str, str] = {}
    fields = [(k, _py(v)) for k, v in conn.params.items() if k != "url"]
    fields += [
        (f, f'dg.EnvVar("{env_var(conn.name, f)}")') for f in conn.secret_fields if not is_url_secret(f)
    ]
    for field, value in sorted(fields):
        if field.isidentifier() and not keyword.iskeyword(field) and field not in _RESERVED:
            args.append(f"{field}={value}")
        else:
            odd[field] = value
    if odd:
        args.append("**{" + ", ".join(f"{_py(k)}: {v}" for k, v in odd.items()) + "}")
    inner = "".join(f"            {arg},\n" for arg in args)
    return f"        SlingConnectionResource(\n{inner}        ),\n"


def _downstream(attrs: Mapping[str, Any], deps: list[AssetKey]) -> str:
    args = [f"key={_key(attrs['key'])}"]
    if deps:
        args.append("deps=[" + ", ".join(_key(d) for d in deps) + "]")
    if attrs.get("description"):
        args.append(f"description={_py(attrs['description'])}")
    if attrs.get("group"):
        args.append(f"group_name={_py(_GROUP_UNSAFE.sub('_', attrs['group']))}")
    tags = [t for t in attrs.get("tags") or () if isinstance(t, str) and _TAG_KEY.match(t)]
    if tags:
        args.append("tags={" + ", ".join(f'{_py(t)}: ""' for t in tags) + "}")
    inner = "".join(f"        {arg},\n" for arg in args)
    return f"    dg.AssetSpec(\n{inner}    ),\n"


def _definitions(
    names: list[str],
    idents: Mapping[str, str],
    blocks: list[str],
    downstream: list[tuple[Mapping[str, Any], list[AssetKey]]],
    connections: list[Connection],
    foreign: list[str],
    translator: str | None,
) -> str:
    custom = any("dagster_sling_translator=" in block for block in blocks)
    note = ""
    if translator:
        note = (
            "\n\n"
            f"The studio names assets with its translator `{translator}`; StudioTranslator below\n"
            "repeats the keys and deps it gave, not its other attributes (group, description):\n"
            "for those, port that class to a dagster_sling.DagsterSlingTranslator subclass here."
        )
    imports = ["SlingConnectionResource", "SlingResource", "sling_assets"]
    translator_class = ""
    if custom:
        imports.insert(0, "DagsterSlingTranslator")
        why = (
            f"those of the studio's translator `{translator}`."
            if translator
            else "a stream that reads the table another replication writes depends on that asset."
        )
        translator_class = "\n\n" + _template("translator.py.tmpl").substitute(why=why)
    listing = ""
    if downstream:
        listing = "# The studio's downstream assets (dbt models, reports, ...) that read these tables.\n"
        listing += "DOWNSTREAM = [\n" + "".join(_downstream(attrs, deps) for attrs, deps in downstream)
        listing += "]\n\n"
    if foreign:
        listed = ", ".join(f"`{c}`" for c in foreign)
        listing += f"# {listed}: not studio connections; Sling reads each from its environment variable.\n"
    assets = [f"{idents[name]}_assets" for name in names] + (["*DOWNSTREAM"] if downstream else [])
    return _template("definitions.py.tmpl").substitute(
        names=", ".join(names) or "no replication",
        translator_note=note,
        imports=", ".join(imports),
        translator_class=translator_class,
        assets="".join("\n\n" + block for block in blocks),
        downstream=listing,
        connections="".join(_connection(c) for c in connections),
        asset_list=", ".join(assets),
    )


def _template(name: str) -> string.Template:
    return string.Template(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


def _env_example(connections: list[Connection], foreign: list[str]) -> str:
    lines = [
        "# The environment definitions.py reads: connection secrets (never exported).",
        "# Fill in the values where Dagster runs; keep the filled file out of version control.",
    ]
    names = []
    for conn in connections:
        if any(is_url_secret(f) for f in conn.secret_fields):
            public = conn.params.get("url", "")
            lines.append(f"# {conn.name}'s URL ({public}) with its password")
            names.append(env_var(conn.name, "url"))
            lines.append(f"{names[-1]}=")
        for field in sorted(f for f in conn.secret_fields if not is_url_secret(f)):
            names.append(env_var(conn.name, field))
            lines.append(f"{names[-1]}=")
    if not names:
        lines.append("# (no connection here has a secret)")
    for conn in foreign:
        lines.append(f"# {conn}: a Sling connection (URL or JSON), not defined in the studio")
        lines.append(f"# {conn}=")
    lines.append("# The sling binary to run; without it the `sling` package downloads one.")
    lines.append("# SLING_BINARY=")
    return "\n".join(lines) + "\n"
