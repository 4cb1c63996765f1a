(function () {
  "use strict";
  // Sorting and filtering of the tables marked `sortable` and `filterable`.
  // The view state lives in the fragment (#filter=orders&sort=total_ms-desc,
  // or sort=TABLE.KEY-DIR for one table) so that a view can be shared.
  // Log text is only ever read through textContent, never parsed as markup.
  var root = document.documentElement;
  var list = function (xs) { return Array.prototype.slice.call(xs); };
  var sortables = list(document.querySelectorAll("table.sortable"));
  var filterables = list(document.querySelectorAll("table.filterable, details.filterable"));
  var state = { filter: "", sort: "" };

  sortables.forEach(function (t) {
    list(t.tBodies[0].rows).forEach(function (r, i) { r.setAttribute("data-i", i); });
    list(t.tHead.rows[0].cells).forEach(function (th) {
      if (!th.hasAttribute("data-key")) return;
      th.tabIndex = 0;
      var pick = function () { clickSort(t, th); };
      th.addEventListener("click", pick);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") pick(); });
    });
  });

  function value(row, col, numeric) {
    var c = row.cells[col];
    var text = c ? c.textContent.trim() : "";
    if (!numeric) return text.toLowerCase();
    var v = parseFloat(text.replace(/,/g, ""));
    return isNaN(v) ? -Infinity : v;
  }

  function sortTable(t, key, desc) {
    var col = -1, numeric = false;
    list(t.tHead.rows[0].cells).forEach(function (th, i) {
      th.removeAttribute("aria-sort");
      if (th.getAttribute("data-key") === key) {
        col = i;
        numeric = th.classList.contains("n");
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      }
    });
    var body = t.tBodies[0];
    var rows = list(body.rows);
    rows.sort(function (a, b) {
      var ia = +a.getAttribute("data-i"), ib = +b.getAttribute("data-i");
      if (col < 0) return ia - ib;
      var x = value(a, col, numeric), y = value(b, col, numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return (desc ? -c : c) || ia - ib;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function applySort() {
    var m = /^(?:([\w-]+)\.)?(\w+)-(asc|desc)$/.exec(state.sort);
    sortables.forEach(function (t) {
      var mine = m && (!m[1] || m[1] === t.getAttribute("data-table"));
      sortTable(t, mine ? m[2] : "", mine && m[3] === "desc");
    });
  }

  function applyFilter() {
    var needle = state.filter.toLowerCase();
    var match = function (el) { return !needle || el.textContent.toLowerCase().indexOf(needle) >= 0; };
    var shown = 0, all = 0;
    filterables.forEach(function (el) {
      var items = el.tagName === "TABLE" ? list(el.tBodies[0].rows) : [el];
      items.forEach(function (r) {
        var ok = match(r);
        r.hidden = !ok;
        all += 1;
        shown += ok ? 1 : 0;
      });
    });
    count.textContent = needle ? shown + " of " + all + " rows and details match" : "";
  }

  function readHash() {
    var h = location.hash.slice(1);
    if (h.indexOf("=") < 0) return false;
    state = { filter: "", sort: "" };
    h.split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i < 0) return;
      var k = part.slice(0, i), v;
      try { v = decodeURIComponent(part.slice(i + 1).replace(/\+/g, " ")); } catch (e) { return; }
      if (k === "filter" || k === "sort") state[k] = v;
    });
    return true;
  }

  function writeHash() {
    var parts = [];
    if (state.filter) parts.push("filter=" + encodeURIComponent(state.filter));
    if (state.sort) parts.push("sort=" + state.sort);
    var url = location.pathname + location.search + (parts.length ? "#" + parts.join("&") : "");
    try { history.replaceState(null, "", url); } catch (e) { /* some file:// views refuse it */ }
  }

  function clickSort(t, th) {
    var key = th.getAttribute("data-key");
    var numeric = th.classList.contains("n");
    var now = th.getAttribute("aria-sort");
    var desc = now ? now === "ascending" : numeric;
    state.sort = t.getAttribute("data-table") + "." + key + "-" + (desc ? "desc" : "asc");
    applySort();
    writeHash();
  }

  // A link to a query's or an error's details opens it.
  function openTarget() {
    var id = location.hash.slice(1);
    if (!id || id.indexOf("=") >= 0) return;
    var el = document.getElementById(id);
    if (el && el.tagName === "DETAILS") el.open = true;
  }

  var box = document.createElement("input");
  box.type = "search";
  box.placeholder = "filter queries and errors";
  box.setAttribute("aria-label", "filter queries and errors");
  var count = document.createElement("span");
  count.className = "note";
  var nav = document.querySelector("nav");
  nav.appendChild(box);
  nav.appendChild(count);
  box.addEventListener("input", function () {
    state.filter = box.value;
    applyFilter();
    writeHash();
  });
  window.addEventListener("hashchange", function () {
    if (readHash()) {
      box.value = state.filter;
      applySort();
      applyFilter();
    }
    openTarget();
  });
  readHash();
  box.value = state.filter;
  applySort();
  applyFilter();
  openTarget();
  root.setAttribute("data-interactive", "on");
})();
