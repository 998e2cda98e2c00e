from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from replication.config import ReplicationConfig as Config
from replication.lineage.graph import nodes_of
from studio import models
from studio.errors import NotFound, Refused
from studio.selectors.lineage import CACHE, lineage_graph, lineage_joined
from studio.selectors.replications import replication_yaml
from studio.services.connections import connection_save
from studio.services.replications import replication_import, replication_save


def config(streams: int) -> Config:
    return Config(
        source="PG",
        target="DUCK",
        streams={f"public.t{i}": {"object": f"main.t{i}", "tags": ["x"]} for i in range(streams)},
    )


@pytest.mark.usefixtures("known_connections")
def test_replication_import_returns_the_warnings():
    text = "source: A\ntarget: B\nstreams:\n  users:\n    object: u\n    primary_keys: [id]\n"

    replication, warnings = replication_import(name="x", text=text)

    assert replication.name == "x"
    assert [(w.path, w.line, w.severity) for w in warnings] == [
        (("streams", "users", "primary_keys"), 6, "warning")
    ]
    assert "did you mean `primary_key`" in warnings[0].message
    # Unknown keys are warned about and kept.
    assert replication.streams.get().config == {"object": "u", "primary_keys": ["id"]}


@pytest.mark.usefixtures("known_connections")
def test_replication_import_refuses_with_problems_and_lines():
    text = "source: A\ntarget: B\nstreams:\n  a:\n    object: x\n    mode: incremetal\n"
    text += "  b:\n    mode: truncate\n"

    with pytest.raises(Refused) as exc:
        replication_import(name="x", text=text)

    assert [(p.path, p.line, p.severity) for p in exc.value.problems] == [
        (("streams", "a", "mode"), 6, "error"),
        (("streams", "b"), 7, "error"),
    ]
    assert "unknown mode `incremetal`" in exc.value.problems[0].message
    assert models.Replication.objects.count() == 0


@pytest.mark.django_db
def test_replication_import_refuses_unreadable_yaml_with_a_line():
    with pytest.raises(Refused) as exc:
        replication_import(name="x", text="source: A\nsource: B\n")

    [problem] = exc.value.problems
    assert (problem.line, problem.severity) == (2, "error")
    assert problem.message == "duplicate key `source` (first defined on line 1)"


@pytest.mark.django_db
def test_replication_export_of_an_unknown_name_raises_not_found():
    with pytest.raises(NotFound, match="no replication named `nope`"):
        replication_yaml(name="nope")


@pytest.mark.django_db
def test_replication_save_replaces_streams_in_order():
    replication_save(name="x", config=config(3))
    smaller = Config(source="PG", target="DUCK", streams={"b": None, "a": {"object": "main.a"}})

    replication_save(name="x", config=smaller)

    assert list(models.Stream.objects.values_list("name", "position", "config", "object")) == [
        ("b", 0, None, ""),
        ("a", 1, {"object": "main.a"}, "main.a"),
    ]


def lineage_queries(streams: int) -> tuple[int, int]:
    """(queries, nodes) of the lineage of all replications, `big` having `streams` streams."""
    replication_save(name="big", config=config(streams))
    with CaptureQueriesContext(connection) as queries:
        graph = lineage_graph()
    return len(queries), graph.number_of_nodes()


@pytest.mark.django_db
def test_lineage_graph_does_a_constant_number_of_queries():
    models.DownstreamAsset.objects.create(key="reports/all", deps=["target/main/t0"])
    models.Connection.objects.create(name="DUCK", type="duckdb", params={"schema": "main"})

    few, few_nodes = lineage_queries(3)
    many, many_nodes = lineage_queries(300)

    # Each stream is a source and a target node: the graph is complete, not just cheap.
    assert (few_nodes, many_nodes) == (3 * 2 + 1, 300 * 2 + 1)
    assert few == many
    assert few <= 4


@pytest.mark.django_db
def test_lineage_graph_does_a_constant_number_of_queries_for_many_replications():
    few, _ = lineage_queries(3)
    for i in range(20):
        replication_save(name=f"r{i}", config=config(5))

    with CaptureQueriesContext(connection) as queries:
        graph = lineage_graph()

    # Twenty replications define `target/main/t4`: a conflict, kept as twenty assets.
    assert [graph.nodes[n]["kind"] for n in nodes_of(graph, "target/main/t4")] == ["target"] * 20
    assert len(queries) == few


@pytest.mark.django_db
def test_one_replications_part_of_the_lineage_does_a_constant_number_of_queries():
    replication_save(name="other", config=config(2))
    replication_save(name="big", config=config(3))
    caches[CACHE].clear()
    with CaptureQueriesContext(connection) as few:
        lineage_joined("big")
    replication_save(name="big", config=config(300))
    caches[CACHE].clear()

    with CaptureQueriesContext(connection) as many:
        part = lineage_joined("big")

    # Its 300 streams, and the two of `other` whose keys conflict with them, as context.
    assert sum(not part.nodes[n].get("context") for n in part) == 300 * 2
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_lineage_of_an_unknown_replication_is_not_found():
    replication_save(name="x", config=config(1))

    with pytest.raises(NotFound, match="no replication named `nope`"):
        lineage_joined("nope")


@pytest.mark.django_db
def test_lineage_graph_reads_downstream_assets():
    replication_save(name="x", config=config(1))
    models.DownstreamAsset.objects.create(
        key="reports/daily", deps=["target/main/t0"], group="reports", tags=["finance"]
    )

    graph = lineage_graph()

    assert graph.nodes["reports/daily"]["kind"] == "downstream"
    assert graph.nodes["reports/daily"]["tags"] == ("finance",)
    assert list(graph.predecessors("reports/daily")) == ["target/main/t0"]


@pytest.mark.django_db
def test_connection_save_refuses_an_unknown_type():
    with pytest.raises(ValueError, match="unknown or missing type `nosql`"):
        connection_save(name="x", fields={"type": "nosql"})

    assert models.Connection.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "edit",
    [
        lambda s: {**s, "public.t1": {"object": "main.other"}},  # one stream's config
        lambda s: {("public.renamed" if n == "public.t2" else n): c for n, c in s.items()},  # a rename
        lambda s: {n: c for n, c in s.items() if n != "public.t0"},  # a deletion: rows move up
        lambda s: {**s, "public.new": None},  # an added stream
        lambda s: {n: {**c, "disabled": True} for n, c in s.items()},  # every stream
    ],
)
def test_a_save_from_the_kept_streams_stores_what_a_save_from_the_rows_does(edit):
    from dataclasses import replace

    from studio.editor_cache import streams as kept_streams
    from studio.selectors.replications import stored_streams

    saved = replication_save(name="r", config=config(5))
    before = stored_streams(saved)  # kept, as the editor keeps it
    first = replace(
        before.config, streams={**before.config.streams, "public.t3": {"object": "x", "mode": "x"}}
    )
    saved = replication_save(name="r", config=first, base_version=saved.version)  # keeps the fragments
    before = kept_streams(saved)
    assert before is not None
    edited = replace(before.config, streams=edit(before.config.streams))

    saved = replication_save(name="r", config=edited, base_version=saved.version)

    documents = models.Revision.objects.filter(replication=saved).order_by("version")
    assert [r.document for r in documents][1:] == [
        models.Revision.document_of(first),
        models.Revision.document_of(edited),
    ]
    kept = kept_streams(saved)
    assert kept is not None
    caches["editor"].clear()
    read = stored_streams(models.Replication.objects.get(name="r"))
    assert (kept.config, kept.ids, kept.keys) == (read.config, read.ids, read.keys)
    assert list(kept.config.streams.items()) == list(read.config.streams.items())  # in file order
    rows = models.Stream.objects.filter(replication=saved).order_by("position")
    assert [(s.position, s.name, s.disabled, s.asset_key) for s in rows] == [
        (i, name, (own or {}).get("disabled") is True, read.keys[name])
        for i, (name, own) in enumerate(edited.streams.items())
    ]
