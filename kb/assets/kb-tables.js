/* Sortable, filterable tables for blocks generated from data/ (div.kb-data table).
 * Offline, no dependencies. Click or press Enter/Space on a header button to sort:
 * numbers by their data-sort-value, text with a natural order; missing cells (—,
 * class kb-missing) stay last in both directions. Tables with more than 10 rows get a
 * filter box. Works with mkdocs-material's instant navigation (document$) and is
 * idempotent: a table is set up once, whatever the number of calls.
 */
(function () {
  "use strict";
  if (window.kbTables) return;

  var FILTER_MIN_ROWS = 10;
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function isMissing(cell) {
    return !cell || cell.classList.contains("kb-missing");
  }

  function compareCells(a, b) {
    var av = a.getAttribute("data-sort-value");
    var bv = b.getAttribute("data-sort-value");
    if (av !== null && bv !== null && av !== "" && bv !== "") {
      return parseFloat(av) - parseFloat(bv);
    }
    return collator.compare(a.textContent.trim(), b.textContent.trim());
  }

  function sortBy(table, index, th) {
    var tbody = table.tBodies[0];
    var current = th.getAttribute("aria-sort");
    var dir = current === "ascending" ? -1 : 1;
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.forEach(function (row, i) { if (row.kbIndex === undefined) row.kbIndex = i; });
    rows.sort(function (r1, r2) {
      var c1 = r1.cells[index], c2 = r2.cells[index];
      var m1 = isMissing(c1), m2 = isMissing(c2);
      if (m1 || m2) {
        if (m1 && m2) return r1.kbIndex - r2.kbIndex;
        return m1 ? 1 : -1;                        // missing last, both directions
      }
      return dir * compareCells(c1, c2) || r1.kbIndex - r2.kbIndex;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (row) { frag.appendChild(row); });
    tbody.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
  }

  function addFilter(table) {
    var tbody = table.tBodies[0];
    var total = tbody.rows.length;
    var wrap = document.createElement("div");
    wrap.className = "kb-filter";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "Filter rows";
    input.setAttribute("aria-label", "Filter the rows of this table");
    var count = document.createElement("span");
    count.className = "kb-filter-count";
    count.setAttribute("aria-live", "polite");
    count.textContent = total + " rows";
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(tbody.rows, function (row) {
        var hit = !q || row.textContent.toLowerCase().indexOf(q) !== -1;
        row.hidden = !hit;
        if (hit) shown += 1;
      });
      count.textContent = q ? shown + " of " + total + " rows" : total + " rows";
    });
    wrap.appendChild(input);
    wrap.appendChild(count);
    // Right above the table (inside a chart's data <details> too), whatever wraps it.
    var anchor = table.closest(".md-typeset__scrollwrap") || table;
    anchor.parentNode.insertBefore(wrap, anchor);
  }

  function setup(table) {
    if (table.getAttribute("data-kb-ready")) return;
    table.setAttribute("data-kb-ready", "1");
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "kb-sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      button.setAttribute("title", "Sort by this column");
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      // A <button> already answers Enter and Space with a click.
      button.addEventListener("click", function () { sortBy(table, index, th); });
    });
    var block = table.closest(".kb-data");
    if (block && table.tBodies[0].rows.length > FILTER_MIN_ROWS) addFilter(table);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".kb-data table"), setup);
  }

  window.kbTables = { init: init };
  function start() {
    if (window.document$ && typeof window.document$.subscribe === "function") {
      window.document$.subscribe(init);   // every page of instant navigation, the first included
    } else {
      init();
    }
  }
  if (window.document$ || document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
