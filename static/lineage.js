// The lineage page: draws the elements the server sends (#lineage-data) with
// cytoscape.js, opens side panels through htmx, opens and closes groups, focuses,
// highlights paths and exports the view as PNG or SVG. No build step.
(() => {
  "use strict";
  if (!window.cytoscape) return;
  if (window.cytoscapeDagre) window.cytoscape.use(window.cytoscapeDagre);

  const MONO = 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace';
  const COLORS = {
    ink: "#1d2433", muted: "#667085", line: "#98a2b3", accent: "#2457d6",
    ok: "#13795b", err: "#b42318", path: "#e8590c",
  };
  const STYLE = [
    { selector: "node", style: {
      shape: "round-rectangle", label: "data(label)",
      "text-wrap": "wrap", "text-valign": "center", "text-halign": "center", "text-justification": "left",
      "font-family": MONO, "font-size": 11, "line-height": 1.35, color: COLORS.ink,
      "background-color": "#ffffff", "border-width": 1, "border-color": "#cfd4dc",
      "min-zoomed-font-size": 6,
    } },
    { selector: "node[w]", style: { width: "data(w)", height: "data(h)" } },
    { selector: "node[kind = 'source']", style: { "background-color": "#f2f4f7", "border-color": "#98a2b3" } },
    { selector: "node[kind = 'target']", style: { "background-color": "#e8eefc", "border-color": COLORS.accent } },
    { selector: "node[kind = 'downstream']", style: { "background-color": "#ecfdf3", "border-color": COLORS.ok } },
    { selector: "node[kind = 'group']", style: {
      "background-color": "#fff8eb", "border-color": "#b54708", "border-width": 2, "border-style": "double",
    } },
    { selector: "node[kind = 'box']", style: {
      shape: "round-rectangle", "background-color": COLORS.accent, "background-opacity": 0.04,
      "border-style": "dashed", "border-color": "#98a2b3", label: "data(label)", "text-valign": "top",
      "text-halign": "center", "text-margin-y": -4, "font-family": "system-ui, sans-serif", "font-size": 12,
      "font-weight": 600, color: COLORS.muted, padding: 12,
    } },
    { selector: "node[status = 'failed']", style: { "border-color": COLORS.err, "border-width": 3 } },
    { selector: "node[status = 'succeeded']", style: { "border-color": COLORS.ok, "border-width": 2 } },
    { selector: "node[status = 'running'], node[status = 'queued']", style: { "border-style": "dashed", "border-width": 2 } },
    // Stale: its last success is older than its freshness allows (after the status rules: it wins).
    { selector: "node[?stale]", style: { "border-color": "#a15c00", "border-style": "dashed", "border-width": 3 } },
    { selector: "edge", style: {
      width: 1.3, "line-color": COLORS.line, "target-arrow-color": COLORS.line, "target-arrow-shape": "triangle",
      "curve-style": "bezier", "arrow-scale": 0.9,
    } },
    { selector: "edge[count]", style: {
      label: "data(count)", "font-size": 10, color: COLORS.muted, "text-background-color": "#ffffff",
      "text-background-opacity": 1, "text-background-padding": 2, width: "mapData(count, 2, 400, 1.8, 6)",
    } },
    // Assets of another replication, drawn where they meet this one.
    { selector: "node[context]", style: { "border-style": "dotted", "background-opacity": 0.55 } },
    // One key, several assets: Dagster refuses it, the studio shows each of them.
    { selector: "node[conflict]", style: {
      "border-color": COLORS.err, "border-width": 3, "border-style": "double", "background-color": "#fef3f2",
    } },
    { selector: "node:selected", style: { "border-width": 3, "border-color": COLORS.ink } },
    { selector: ".faded", style: { opacity: 0.2 } },
    { selector: "node.on-path", style: { "border-color": COLORS.path, "border-width": 3 } },
    { selector: "edge.on-path", style: { "line-color": COLORS.path, "target-arrow-color": COLORS.path, width: 3 } },
  ];

  // Labels are drawn at 11 px; a fit that would shrink them below 9 px on screen shows
  // a readable part of the graph instead (the Fit button still shows it whole).
  const MIN_LABEL_PX = 9;
  const READABLE = MIN_LABEL_PX / 11;
  let cy = null;
  let rendered = "";
  let opening = null;
  let onPath = { keys: [], units: [] };
  // An asset Find chose that the view drew inside a group: its panel opens once it is drawn.
  let toOpen = null;
  const byKey = new Map();
  const controls = () => document.getElementById("lineage-controls");

  function layoutOf(data) {
    if (data.layout === "preset") return { name: "preset", fit: true, padding: 16 };
    return { name: "dagre", rankDir: "LR", nodeSep: 16, rankSep: 90, edgeSep: 8, fit: true, padding: 16 };
  }

  function render() {
    const script = document.getElementById("lineage-data");
    const container = document.getElementById("cy");
    if (!script || !container || script.textContent === rendered) return;
    rendered = script.textContent;
    const data = JSON.parse(rendered) || { elements: [] };
    if (cy) cy.destroy();
    byKey.clear();
    const big = data.elements.length > 600;
    cy = window.cytoscape({
      container, elements: data.elements, style: STYLE, layout: layoutOf(data),
      minZoom: 0.03, maxZoom: 3, boxSelectionEnabled: false,
      textureOnViewport: big, hideEdgesOnViewport: big, pixelRatio: big ? 1 : "auto",
    });
    window.lineageGraph = cy; // for the browser tests, the bench and the curious
    cy.nodes().forEach((n) => { if (n.data("key")) byKey.set(n.data("key"), n); });
    // A small graph fitted to a wide canvas would be drawn huge; a big one, too small
    // to read: then show the group just opened, or the selector's asset, readable.
    if (cy.zoom() > 1.25) { cy.zoom(1.25); cy.center(); }
    if (cy.zoom() < READABLE) focusOn(anchor() || cy.elements());
    opening = null;
    // A highlighted path stays highlighted across redraws, until cleared.
    if (onPath.keys.length) highlight(onPath);
    cy.on("tap", "node", (event) => openPanel(event.target));
    cy.on("dbltap", "node[kind = 'group']", (event) => expand(event.target.data("unit")));
    // Which selection the canvas shows, for tests waiting on a redraw.
    container.dataset.selection = document.getElementById("lineage-graph")?.dataset.select || "";
    cy.one("render", () => {
      // Read by the browser test and bench/lineage.py: the first frame is on screen.
      document.body.dataset.lineageRendered = String(Math.round(performance.now()));
    });
    const selected = document.querySelector("#lineage-panel [data-key]");
    if (selected) reveal(selected.dataset.key);
    const found = toOpen && byKey.get(toOpen);
    toOpen = null;
    if (found) {
      openPanel(found);
      mark(found.data("key"));
    }
  }

  // The panel's asset selected and, when the redraw put it out of sight (an asset just added
  // lands where the layout puts it), brought to the middle of the canvas.
  function reveal(key) {
    mark(key);
    const node = byKey.get(key);
    if (!node) return;
    const at = node.renderedPosition();
    if (at.x < 0 || at.y < 0 || at.x > cy.width() || at.y > cy.height()) {
      cy.zoom(Math.max(cy.zoom(), READABLE));
      cy.center(node);
    }
  }

  function anchor() {
    if (opening) {
      const group = cy.nodes().filter((n) => n.data("unit") === opening);
      if (group.length) return group;
    }
    const term = current("select").trim().split(/\s+/)[0] || "";
    const key = term.replace(/^\d*\+/, "").replace(/\+\d*$/, "");
    return byKey.get(key) || null;
  }

  function focusOn(target) {
    if (!target) return;
    const box = target.boundingBox();
    cy.zoom(READABLE);
    if (box.w * READABLE < cy.width() - 32 && box.h * READABLE < cy.height() - 32) {
      cy.center(target);
    } else {
      // Too big to show whole: start at its top left corner.
      cy.pan({ x: 16 - box.x1 * READABLE, y: 24 - box.y1 * READABLE });
    }
  }

  function current(name) {
    const field = controls()?.elements[name];
    return field ? field.value : "";
  }

  function query(params) {
    const search = new URLSearchParams(params);
    for (const name of ["replication", "select"]) if (current(name)) search.set(name, current(name));
    return search.toString();
  }

  function openPanel(node) {
    const group = node.data("kind") === "group" || node.data("kind") === "box";
    const params = group ? { unit: node.data("unit"), by: node.data("by") || "" } : { key: node.data("key") };
    const search = new URLSearchParams(query(params));
    if (group) document.querySelectorAll("#lineage-expand input").forEach((i) => search.append("expand", i.value));
    const urls = document.getElementById("cy").dataset;
    const url = `${group ? urls.groupUrl : urls.nodeUrl}?${search}`;
    window.htmx.ajax("GET", url, { target: "#lineage-panel", swap: "innerHTML" });
  }

  function mark(key) {
    if (!cy) return;
    cy.nodes(":selected").unselect();
    const node = byKey.get(key);
    if (node) node.select();
  }

  function submit({ resetExpand = false } = {}) {
    if (resetExpand) document.getElementById("lineage-expand").replaceChildren();
    window.htmx.trigger(controls(), "submit");
  }

  function expand(unit) {
    const box = document.getElementById("lineage-expand");
    if ([...box.querySelectorAll("input")].some((i) => i.value === unit)) return;
    opening = unit;
    settlePanel(unit, "Opened: its assets are drawn in a box; click the box to close it.");
    const input = document.createElement("input");
    Object.assign(input, { type: "hidden", name: "expand", value: unit });
    box.append(input);
    submit();
  }

  function settlePanel(unit, text) {
    const panel = [...document.querySelectorAll("#lineage-panel .lineage-group")].find((g) => g.dataset.unit === unit);
    const toolbar = panel?.querySelector(".toolbar");
    if (toolbar) toolbar.replaceChildren(Object.assign(document.createElement("p"), { className: "muted small", textContent: text }));
  }

  function collapse(unit) {
    settlePanel(unit, "Closed.");
    document.querySelectorAll("#lineage-expand input").forEach((i) => {
      if (i.value === unit || i.value.startsWith(unit + "#")) i.remove();
    });
    submit();
  }

  function setSelector(text) {
    controls().elements.select.value = text;
    submit({ resetExpand: true });
  }

  function find(key) {
    const node = byKey.get(key);
    if (node) {
      cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 0.9) }, { duration: 250 });
      openPanel(node);
      mark(key);
    } else if (key) {
      toOpen = key;
      setSelector(`1+${key}+1`);
    }
  }

  // A match picked from the Find list: centred and selected (its row marked as the current one).
  function pick(button) {
    document.querySelectorAll("#lineage-found [aria-current]").forEach((b) => b.removeAttribute("aria-current"));
    button.setAttribute("aria-current", "true");
    find(button.dataset.lineageFind);
  }

  // The path's assets, and the closed groups (`units`) the folded view draws some of them in.
  function highlight({ keys = [], units = [] } = {}) {
    onPath = { keys, units };
    if (!cy) return;
    cy.elements().removeClass("on-path faded");
    if (!keys.length) return;
    const on = new Set(keys);
    const folded = new Set(units);
    const nodes = cy.nodes().filter(
      (n) => on.has(n.data("key")) || (n.data("kind") === "group" && folded.has(n.data("unit"))),
    );
    const edges = nodes.edgesWith(nodes);
    nodes.addClass("on-path");
    edges.addClass("on-path");
    cy.elements().not(nodes).not(edges).not("node[kind = 'box']").addClass("faded");
    if (nodes.length) cy.animate({ fit: { eles: nodes, padding: 60 } }, { duration: 250 });
  }

  function download(name, blob) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  function fileName(ext) {
    return `${current("replication") || "lineage"}.${ext}`;
  }

  const escapeXml = (text) => String(text).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

  // The view as SVG, drawn from cytoscape's own geometry and computed styles.
  function toSvg() {
    const box = cy.elements().boundingBox();
    const pad = 20;
    const out = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(box.w + 2 * pad)}" height="${Math.ceil(box.h + 2 * pad)}"`
        + ` viewBox="${box.x1 - pad} ${box.y1 - pad} ${box.w + 2 * pad} ${box.h + 2 * pad}">`,
      `<rect x="${box.x1 - pad}" y="${box.y1 - pad}" width="${box.w + 2 * pad}" height="${box.h + 2 * pad}" fill="#ffffff"/>`,
    ];
    const arrows = new Map();
    const arrow = (color) => {
      if (!arrows.has(color)) arrows.set(color, `a${arrows.size}`);
      return arrows.get(color);
    };
    cy.nodes("[kind = 'box']").forEach((n) => {
      const b = n.boundingBox({ includeLabels: false });
      out.push(`<rect x="${b.x1}" y="${b.y1}" width="${b.w}" height="${b.h}" rx="8" fill="#2457d6" fill-opacity="0.04"`
        + ` stroke="#98a2b3" stroke-dasharray="5 4" opacity="${n.style("opacity")}"/>`);
      out.push(`<text x="${b.x1 + b.w / 2}" y="${b.y1 - 6}" text-anchor="middle" font-family="system-ui, sans-serif"`
        + ` font-size="12" font-weight="600" fill="#667085">${escapeXml(n.data("label"))}</text>`);
    });
    cy.edges().forEach((e) => {
      const s = e.sourceEndpoint();
      const t = e.targetEndpoint();
      const color = e.style("line-color");
      const points = e.controlPoints();
      const d = points && points.length
        ? `M${s.x},${s.y} Q${points[0].x},${points[0].y} ${t.x},${t.y}`
        : `M${s.x},${s.y} L${t.x},${t.y}`;
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${parseFloat(e.style("width"))}"`
        + ` opacity="${e.style("opacity")}" marker-end="url(#${arrow(color)})"/>`);
      if (e.data("count")) {
        const m = e.midpoint();
        out.push(`<text x="${m.x}" y="${m.y + 3}" text-anchor="middle" font-family="${escapeXml(MONO)}" font-size="10"`
          + ` fill="#667085" stroke="#ffffff" stroke-width="3" paint-order="stroke">${e.data("count")}</text>`);
      }
    });
    cy.nodes("[kind != 'box']").forEach((n) => {
      const p = n.position();
      const w = n.width();
      const h = n.height();
      out.push(`<g opacity="${n.style("opacity")}"><rect x="${p.x - w / 2}" y="${p.y - h / 2}" width="${w}" height="${h}" rx="6"`
        + ` fill="${n.style("background-color")}" stroke="${n.style("border-color")}" stroke-width="${parseFloat(n.style("border-width"))}"/>`);
      const lines = String(n.data("label") || "").split("\n");
      const top = p.y - ((lines.length - 1) * 15) / 2 + 4;
      lines.forEach((line, i) => {
        out.push(`<text x="${p.x - w / 2 + 11}" y="${top + i * 15}" font-family="${escapeXml(MONO)}" font-size="11"`
          + ` fill="#1d2433">${escapeXml(line)}</text>`);
      });
      out.push("</g>");
    });
    const defs = [...arrows].map(([color, id]) => `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9"`
      + ` markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`);
    out.splice(1, 0, `<defs>${defs.join("")}</defs>`);
    out.push("</svg>");
    return out.join("\n");
  }

  const actions = {
    "zoom-in": () => cy && cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } }),
    "zoom-out": () => cy && cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } }),
    fit: () => cy && cy.fit(undefined, 30),
    png: () => cy && download(fileName("png"), cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff", maxWidth: 8000, maxHeight: 8000 })),
    svg: () => cy && download(fileName("svg"), new Blob([toSvg()], { type: "image/svg+xml" })),
    "clear-path": () => { highlight(); document.getElementById("lineage-path").replaceChildren(); },
    "clear-found": () => document.getElementById("lineage-found").replaceChildren(),
  };

  document.addEventListener("click", (event) => {
    const target = event.target.closest(
      "[data-lineage-action], [data-expand], [data-collapse], [data-lineage-select], [data-lineage-find]",
    );
    if (!target) return;
    event.preventDefault();
    if (target.dataset.lineageAction) actions[target.dataset.lineageAction]?.();
    else if (target.dataset.lineageFind) pick(target);
    else if (target.dataset.expand) expand(target.dataset.expand);
    else if (target.dataset.collapse) collapse(target.dataset.collapse);
    else setSelector(target.dataset.lineageSelect);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches(".lineage-focus")) {
      event.preventDefault();
      const key = form.dataset.focusKey;
      const depth = Math.max(1, Math.min(99, parseInt(form.elements.depth.value, 10) || 1));
      const direction = event.submitter?.value || "both";
      const selectors = { up: `${depth}+${key}`, down: `${key}+${depth}`, both: `${depth}+${key}+${depth}`, all: `+${key}+` };
      setSelector(selectors[direction]);
    }
  });

  // A new selection or grouping starts with every group closed.
  document.addEventListener("change", (event) => {
    if (event.target.closest("#lineage-controls") && event.target.name !== "expand") {
      document.getElementById("lineage-expand")?.replaceChildren();
    }
  });

  document.body.addEventListener("lineagePath", (event) => highlight(event.detail));
  document.body.addEventListener("htmx:afterSettle", (event) => {
    render();
    const panel = event.detail.target;
    // One match, or one that is the very key typed: go to it at once.
    if (panel && panel.id === "lineage-found") {
      const matches = [...panel.querySelectorAll("[data-lineage-find]")];
      const typed = document.getElementById("lineage-search")?.elements.q.value.trim();
      const exact = matches.find((b) => b.dataset.lineageFind === typed) || (matches.length === 1 ? matches[0] : null);
      if (exact) pick(exact);
    }
    if (panel && panel.id === "lineage-panel") {
      const node = panel.querySelector("[data-key]");
      if (node) mark(node.dataset.key);
    }
  });
  // Unknown assets and groups answer 404 with a message: show it in place.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 404 && event.detail.target.closest("[data-lineage]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
