/* Sortable, filterable tables for blocks generated from data/ (div.kb-data table).
 * Offline, no dependencies. Click or press Enter/Space on a header button to sort:
 * numbers by their data-sort-value, text with a natural order; missing cells (—,
 * class kb-missing) stay last in both directions. Tables with more than 10 rows get a
 * filter box. Columns marked kb-more (not key columns) are hidden behind a "More
 * columns" button while the whole table would not fit its box, so the key columns
 * (the answer and what identifies the row) are in view without scrolling; a fade at
 * the right edge shows that a box scrolls. Works with mkdocs-material's instant
 * navigation (document$) and is idempotent: a table is set up once, whatever the
 * number of calls.
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
    tools(table).appendChild(wrap);
  }

  // The row of controls right above the table's box (inside a chart's data <details> too).
  function tools(table) {
    var frame = table.closest(".kb-frame") || table.closest(".md-typeset__scrollwrap") || table;
    var prev = frame.previousElementSibling;
    if (prev && prev.classList.contains("kb-tools")) return prev;
    var bar = document.createElement("div");
    bar.className = "kb-tools";
    frame.parentNode.insertBefore(bar, frame);
    return bar;
  }

  // -- key columns in view ---------------------------------------------------------
  function overflows(box) {
    return box.scrollWidth > box.clientWidth + 1;
  }

  function cue(frame, box) {
    frame.classList.toggle("kb-more-right", box.scrollLeft + box.clientWidth < box.scrollWidth - 1);
    frame.classList.toggle("kb-scrolled", box.scrollLeft > 0);
  }

  // Hide (or show again) every cell of column `index`.
  function setGone(table, index, gone) {
    Array.prototype.forEach.call(table.rows, function (row) {
      var cell = row.cells[index];
      if (cell) cell.classList.toggle("kb-gone", gone);
    });
  }

  // Collapsed: the kb-more columns are hidden; while the key columns still do not fit, those
  // marked data-kb-give give way too, 1 first (the first two key columns never do).
  function setCollapsed(table, block, box, button, collapsed) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, i) { if (th.classList.contains("kb-gone")) setGone(table, i, false); });
    block.classList.toggle("kb-collapsed", collapsed);
    var hidden = block.kbMoreCount;
    if (collapsed) {
      heads.map(function (th, i) { return [parseInt(th.getAttribute("data-kb-give") || "0", 10), i]; })
        .filter(function (p) { return p[0] > 0; })
        .sort(function (a, b) { return a[0] - b[0]; })
        .forEach(function (p) {
          if (overflows(box)) { setGone(table, p[1], true); hidden += 1; }
        });
    }
    button.textContent = collapsed ? "More columns (" + hidden + ")" : "Fewer columns";
    button.setAttribute("aria-expanded", collapsed ? "false" : "true");
  }

  // Show every column when they all fit, else only the key ones; a reader's own choice stands.
  function layout(table) {
    var block = table.closest(".kb-data");
    var box = table.closest(".kb-scroll");
    var frame = table.closest(".kb-frame");
    if (!block || !box || !frame) return;
    // The caption wraps to the box's width, not to the (wider) table's.
    if (box.clientWidth > 0) box.style.setProperty("--kb-box-width", box.clientWidth + "px");
    var button = block.kbColsButton;
    if (button && box.clientWidth > 0) {
      if (block.kbChoice === undefined) {
        setCollapsed(table, block, box, button, false);
        var collapse = overflows(box);
        setCollapsed(table, block, box, button, collapse);
        button.hidden = !collapse;
      } else {
        setCollapsed(table, block, box, button, block.kbChoice);
      }
    }
    cue(frame, box);
  }

  function addColumnsToggle(table) {
    var block = table.closest(".kb-data");
    var head = table.tHead.rows[0];
    var more = head.querySelectorAll("th.kb-more").length;
    if (!block || !(more || head.querySelector("th[data-kb-give]")) || block.kbColsButton) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "kb-cols";
    button.setAttribute("aria-controls", block.id || "");
    block.kbMoreCount = more;
    block.kbColsButton = button;
    button.addEventListener("click", function () {
      block.kbChoice = !block.classList.contains("kb-collapsed");
      layout(table);
    });
    tools(table).appendChild(button);
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
    addColumnsToggle(table);
    var box = table.closest(".kb-scroll");
    var frame = table.closest(".kb-frame");
    if (box && frame) box.addEventListener("scroll", function () { cue(frame, box); }, { passive: true });
    var details = table.closest("details");
    if (details) details.addEventListener("toggle", function () { layout(table); });
    layout(table);
  }

  function tables() {
    return document.querySelectorAll(".kb-data table");
  }

  function init() {
    Array.prototype.forEach.call(tables(), setup);
  }

  var pending = 0;
  window.addEventListener("resize", function () {
    if (pending) return;
    pending = window.requestAnimationFrame(function () {
      pending = 0;
      Array.prototype.forEach.call(tables(), layout);
    });
  });

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
