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
