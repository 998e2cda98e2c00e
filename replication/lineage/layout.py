"""A layered drawing of a directed graph, computed on the server for big views."""

from __future__ import annotations

from collections.abc import Mapping


def layered_layout(
    nodes: list[str],
    edges: list[tuple[str, str]],
    *,
    sizes: Mapping[str, tuple[float, float]],
    groups: Mapping[str, str] | None = None,
    rank_gap: float = 80.0,
    node_gap: float = 16.0,
    group_gap: float = 56.0,
    max_rows: int = 18,
    sweeps: int = 4,
) -> dict[str, tuple[float, float]]:
    """Centre positions, left to right, of a layered drawing of a directed graph.

    Cycles are broken by reversing the DFS back edges; layers are longest paths
    from the sources (a source is then pulled next to its first reader); the
    order within a layer comes from barycenter sweeps; a layer taller than
    `max_rows` nodes wraps into several columns. With `groups` (node -> group),
    a group's nodes stay together in one row of the drawing, and groups share a
    row only where their layers do not meet: their boxes never overlap.
    """
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in _acyclic(nodes, edges):
        succ[a].append(b)
        pred[b].append(a)
    layer = _longest_path_layers(nodes, succ, pred)
    count = max(layer.values(), default=-1) + 1
    # The nodes of a layer outside every group make one unit (one block, wrapped into columns).
    unit_of = {n: groups.get(n) or f"\0{layer[n]}" for n in nodes} if groups else dict.fromkeys(nodes, "")
    layers: list[list[str]] = [[] for _ in range(count)]
    for node in sorted(nodes, key=lambda n: (unit_of[n], n)):
        layers[layer[node]].append(node)
    position = {n: i / max(len(row), 1) for row in layers for i, n in enumerate(row)}
    rank: dict[str, float] = {}

    def sweep() -> None:
        for direction in range(sweeps):
            order = range(1, count) if direction % 2 == 0 else range(count - 2, -1, -1)
            neighbours = pred if direction % 2 == 0 else succ
            for i in order:
                row = layers[i]
                bary = {}
                for n in row:
                    around = [position[m] for m in neighbours[n]]
                    bary[n] = sum(around) / len(around) if around else position[n]
                row.sort(key=lambda n: (rank.get(unit_of[n], 0.0), bary[n]))
                for j, n in enumerate(row):
                    position[n] = j / len(row)

    sweep()
    if groups:
        members: dict[str, list[float]] = {}
        for n in nodes:
            members.setdefault(unit_of[n], []).append(position[n])
        rank.update({u: sum(p) / len(p) for u, p in members.items()})
        sweep()
    # Blocks: the nodes of one unit in one layer, wrapped into columns.
    cells: dict[str, dict[int, list[str]]] = {}
    for i, row in enumerate(layers):
        for n in row:
            cells.setdefault(unit_of[n], {}).setdefault(i, []).append(n)
    blocks = {
        (unit, i): _block(column, sizes, node_gap, rank_gap / 2, max_rows)
        for unit, by_layer in cells.items()
        for i, column in by_layer.items()
    }
    width = [0.0] * count
    for (_, i), (w, _, _) in blocks.items():
        width[i] = max(width[i], w)
    left = [sum(width[:i]) + rank_gap * i for i in range(count)]
    rows = _rows(cells, rank) if groups else [[""]]
    boxed = [any(not unit.startswith("\0") for unit in row) for row in rows] if groups else [False]
    out: dict[str, tuple[float, float]] = {}
    top = 0.0
    for r, row in enumerate(rows):
        if r:
            top += group_gap if boxed[r] or boxed[r - 1] else node_gap
        height = max((blocks[unit, i][1] for unit in row for i in cells.get(unit, {})), default=0.0)
        for unit in row:
            for i in cells.get(unit, {}):
                w, h, offsets = blocks[unit, i]
                x0, y0 = left[i] + (width[i] - w) / 2, top + (height - h) / 2
                for n, (dx, dy) in offsets.items():
                    out[n] = (x0 + dx, y0 + dy)
        top += height
    return out


def packed_layout(
    nodes: list[str],
    edges: list[tuple[str, str]],
    *,
    sizes: Mapping[str, tuple[float, float]],
    aspect: float = 1.8,
    gap: float = 40.0,
    node_gap: float = 16.0,
) -> dict[str, tuple[float, float]]:
    """Centre positions of a drawing whose parts do not meet: each connected part laid out
    by `layered_layout`, the nodes without an edge in a grid, and all of them packed in rows
    to about `aspect` (width / height), so that a fit to a wide canvas leaves labels readable.
    Biggest parts first; ties in the order of `nodes`. One connected part is `layered_layout`."""
    parts = components(nodes, edges)
    single = [part[0] for part in parts if len(part) == 1]
    joined = [part for part in parts if len(part) > 1]
    if len(joined) == 1 and not single:
        return layered_layout(nodes, edges, sizes=sizes)
    blocks: list[tuple[float, float, dict[str, tuple[float, float]]]] = []
    for part in sorted(joined, key=len, reverse=True):
        inside = set(part)
        drawn = layered_layout(part, [e for e in edges if e[0] in inside], sizes=sizes)
        blocks.append(_framed(drawn, sizes))
    if single:
        blocks.append(_grid(single, sizes, aspect, node_gap))
    area = sum((w + gap) * (h + gap) for w, h, _ in blocks)
    row_width = max(max(w for w, _, _ in blocks), (area * aspect) ** 0.5)
    out: dict[str, tuple[float, float]] = {}
    x = top = height = 0.0
    for w, h, offsets in blocks:
        if x and x + w > row_width:
            x, top, height = 0.0, top + height + gap, 0.0
        for n, (dx, dy) in offsets.items():
            out[n] = (x + dx, top + dy)
        x, height = x + w + gap, max(height, h)
    return out


def components(nodes: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """The weakly connected parts of the graph, by first node, each in the order of `nodes`."""
    around: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        around[a].append(b)
        around[b].append(a)
    part_of: dict[str, int] = {}
    for root in nodes:
        if root in part_of:
            continue
        part_of[root] = len(part_of)
        stack = [root]
        while stack:
            for m in around[stack.pop()]:
                if m not in part_of:
                    part_of[m] = part_of[root]
                    stack.append(m)
    parts: dict[int, list[str]] = {}
    for n in nodes:
        parts.setdefault(part_of[n], []).append(n)
    return list(parts.values())  # dicts keep insertion order: by first node


def _framed(
    drawn: Mapping[str, tuple[float, float]], sizes: Mapping[str, tuple[float, float]]
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """(width, height, centre offsets from the top left corner) of laid-out nodes."""
    x0 = min(x - sizes[n][0] / 2 for n, (x, _) in drawn.items())
    y0 = min(y - sizes[n][1] / 2 for n, (_, y) in drawn.items())
    x1 = max(x + sizes[n][0] / 2 for n, (x, _) in drawn.items())
    y1 = max(y + sizes[n][1] / 2 for n, (_, y) in drawn.items())
    return x1 - x0, y1 - y0, {n: (x - x0, y - y0) for n, (x, y) in drawn.items()}


def _grid(
    cells: list[str], sizes: Mapping[str, tuple[float, float]], aspect: float, gap: float
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """(width, height, centre offsets) of nodes in a grid of equal cells, row by row, about `aspect` wide."""
    w = max(sizes[n][0] for n in cells) + gap
    h = max(sizes[n][1] for n in cells) + gap
    columns = max(1, min(len(cells), round((len(cells) * aspect * h / w) ** 0.5)))
    rows = -(-len(cells) // columns)
    offsets = {
        n: ((i % columns) * w + (w - gap) / 2, (i // columns) * h + (h - gap) / 2)
        for i, n in enumerate(cells)
    }
    return columns * w - gap, rows * h - gap, offsets


def _rows(cells: Mapping[str, Mapping[int, list[str]]], rank: Mapping[str, float]) -> list[list[str]]:
    """Units packed into rows, in rank order: a unit joins the first row whose
    units' layer spans its own span does not meet."""
    rows: list[list[str]] = []
    spans: list[list[tuple[int, int]]] = []
    for unit in sorted(cells, key=lambda u: (rank.get(u, 0.0), u)):
        lo, hi = min(cells[unit]), max(cells[unit])
        for r, taken in enumerate(spans):
            if all(hi < a or lo > b for a, b in taken):
                rows[r].append(unit)
                taken.append((lo, hi))
                break
        else:
            rows.append([unit])
            spans.append([(lo, hi)])
    return rows


def _block(
    column: list[str], sizes: Mapping[str, tuple[float, float]], gap: float, column_gap: float, max_rows: int
) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """(width, height, centre offsets) of nodes stacked top-down in as few columns as `max_rows` allows."""
    per = -(-len(column) // -(-len(column) // max_rows))
    parts = [column[i : i + per] for i in range(0, len(column), per)]
    widths = [max(sizes[n][0] for n in part) for part in parts]
    height = max(_stack(part, sizes, gap) for part in parts)
    offsets: dict[str, tuple[float, float]] = {}
    x = 0.0
    for part, part_width in zip(parts, widths, strict=True):
        y = (height - _stack(part, sizes, gap)) / 2
        for n in part:
            offsets[n] = (x + part_width / 2, y + sizes[n][1] / 2)
            y += sizes[n][1] + gap
        x += part_width + column_gap
    return sum(widths) + column_gap * (len(parts) - 1), height, offsets


def _stack(row: list[str], sizes: Mapping[str, tuple[float, float]], gap: float) -> float:
    return sum(sizes[n][1] for n in row) + gap * max(len(row) - 1, 0)


def _acyclic(nodes: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`edges` with the back edges of a depth-first search reversed (self-loops dropped)."""
    adjacency: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a != b:
            adjacency[a].append(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(adjacency[root]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    back.add((node, child))
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(adjacency[child])))
                    break
            else:
                state[node] = 2
                stack.pop()
    out = []
    for a, b in edges:
        if a != b:
            out.append((b, a) if (a, b) in back else (a, b))
    return out


def _longest_path_layers(
    nodes: list[str], succ: Mapping[str, list[str]], pred: Mapping[str, list[str]]
) -> dict[str, int]:
    indegree = {n: len(pred[n]) for n in nodes}
    layer = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        node = ready.pop()
        for child in succ[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    for node in nodes:
        if not pred[node] and succ[node]:
            layer[node] = max(min(layer[c] for c in succ[node]) - 1, 0)
    return layer
