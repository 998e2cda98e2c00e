// Keyboard: "/" focuses the search of the page; Ctrl/Cmd+S saves the open stream form.
document.addEventListener("keydown", (event) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName);
  if (event.key === "/" && !typing) {
    const search = document.querySelector("[data-hotkey='/']");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  }
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
    const form = document.querySelector("form[data-save-hotkey]");
    if (form) { event.preventDefault(); form.requestSubmit(); }
  }
});

// "all" checkboxes tick every checkbox of the same name in their form.
document.addEventListener("change", (event) => {
  const name = event.target.dataset?.checkAll;
  if (!name) return;
  event.target.closest("form")?.querySelectorAll(`input[type=checkbox][name='${name}']`)
    .forEach((box) => { box.checked = event.target.checked; });
});

// The replication.yaml box loads when opened, and again after a save only while it is open
// (at 10,000 streams its text is worth not fetching unseen).
document.addEventListener("toggle", (event) => {
  const box = event.target;
  if (box.id === "yaml-preview-box" && box.open && box.dataset.fresh !== "yes") {
    box.dataset.fresh = "yes";
    htmx.trigger("#yaml-preview", "refresh");
  }
}, true);
// Any save: replicationChanged (the page fetches its parts again) or replicationShown (the
// save's answer carried them).
for (const saved of ["replicationChanged", "replicationShown"]) {
  document.body.addEventListener(saved, () => {
    const box = document.getElementById("yaml-preview-box");
    if (!box) return;
    if (box.open) htmx.trigger("#yaml-preview", "refresh");
    else box.dataset.fresh = "no";
  });
}

// A log (`pre[data-follow]`) opens at its end and follows new lines while the reader is at the end.
document.querySelectorAll("pre[data-follow]").forEach((log) => { log.scrollTop = log.scrollHeight; });
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const log = event.detail.target;
  if (log?.matches?.("pre[data-follow]")) log.dataset.atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
});
document.addEventListener("htmx:oobAfterSwap", (event) => {
  const log = event.detail.target;
  if (log?.matches?.("pre[data-follow]") && log.dataset.atEnd !== "false") log.scrollTop = log.scrollHeight;
});

// After a stream is added its form is empty again, for the next one (a refusal keeps what was typed).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (form?.matches?.("form.add-stream") && event.detail.xhr.status === 200) form.reset();
});

// Destructive actions ask first. A form with `data-confirm` (the question; `{count}` is the
// number of ticked streams, or of the matching ones) is sent only once confirmed; with `data-confirm-action`, only its
// `action` of that value asks. Caught before htmx or the browser sends the form.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset?.confirm;
  if (!question) return;
  const only = form.dataset.confirmAction;
  if (only && form.elements.action?.value !== only) return;
  // "All N matching" counts every stream the filter matches, ticked or not.
  const matching = form.querySelector("input[name=matching]:checked");
  const ticked = form.querySelectorAll("input[type=checkbox][name=streams]:checked").length;
  const count = matching ? `${matching.dataset.count} matching` : `${ticked} ticked`;
  if (!window.confirm(question.replace("{count}", count))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// A connection's type is changed by swapping in that type's fields from the server, which never
// sends a secret back: the secrets typed so far are kept here and put back in the box of the
// same name (also after a type without that box: postgres, sqlite, postgres).
document.addEventListener("htmx:beforeSwap", (event) => {
  const fields = event.detail.target;
  if (fields.id !== "connection-fields") return;
  const form = fields.closest("form");
  form.typedSecrets ??= {};
  fields.querySelectorAll("input[type=password]").forEach((box) => { form.typedSecrets[box.name] = box.value; });
});
document.addEventListener("htmx:afterSwap", (event) => {
  const fields = event.target;  // each element swapped in
  if (fields.id !== "connection-fields") return;
  const typed = fields.closest("form")?.typedSecrets ?? {};
  fields.querySelectorAll("input[type=password]").forEach((box) => { if (typed[box.name]) box.value = typed[box.name]; });
});

// A stream's panel opened under the streams table (a narrow window) is brought into view.
document.addEventListener("htmx:afterSwap", (event) => {
  const panel = event.detail.target;
  if (panel.id !== "stream-panel" || getComputedStyle(panel).position === "sticky") return;
  const top = panel.getBoundingClientRect().top;
  if (top > window.innerHeight || top < 0) panel.scrollIntoView({ block: "start" });
});

// A column of the stream panel's list goes into the key field focused last: added to a list
// (primary_key, select), or put in place of the one there (update_key); then checked as typed.
let columnField = null;
document.addEventListener("focusin", (event) => {
  if (event.target.matches?.("input[list='stream-columns']")) columnField = event.target;
});
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("button[data-column]");
  if (!button) return;
  const field = columnField?.isConnected ? columnField : document.querySelector("#id_primary_key");
  if (!field) return;
  const name = button.dataset.column;
  if (field.name === "update_key") {
    field.value = name;
  } else {
    const names = field.value.split(",").map((part) => part.trim()).filter(Boolean);
    if (!names.includes(name)) names.push(name);
    field.value = names.join(", ");
  }
  field.dispatchEvent(new Event("input", { bubbles: true }));
  field.focus();
});
