/* Link previews: hovering a link to another page of this site shows a small card with the
 * target's title and first paragraph (or, for a link to a heading, that heading and the
 * paragraph after it). The page is fetched from the site itself (same origin) and read
 * with DOMParser; only text is copied into the card (textContent), never markup.
 * Desktop only: nothing happens on touch screens or without a fine pointer that hovers.
 */
(function () {
  "use strict";
  if (window.kbPreview) return;
  window.kbPreview = true;
  if (!window.matchMedia || !window.matchMedia("(hover: hover) and (pointer: fine)").matches) return;
  if (!window.fetch || !window.DOMParser) return;

  var DELAY = 350, MAX_CHARS = 320;
  var cache = new Map();          // page URL -> Promise of its Document (or null)
  var card = null, timer = 0, hideTimer = 0, current = null;

  function target(a) {
    if (!a || !a.href || a.closest(".kb-preview, .md-header, .md-nav, .md-footer, .headerlink, .md-search")) return null;
    if (a.hasAttribute("download") || (a.target && a.target !== "_self")) return null;
    var url;
    try { url = new URL(a.href, location.href); } catch (e) { return null; }
    if (url.origin !== location.origin || !/^https?:$/.test(url.protocol)) return null;
    if (!/(\/|\.html)$/.test(url.pathname)) return null;       // pages only, not files
    var here = new URL(location.href);
    if (url.pathname === here.pathname) return null;            // a link within this page
    return url;
  }

  function load(url) {
    var key = url.origin + url.pathname;
    if (!cache.has(key)) {
      cache.set(key, fetch(key, { credentials: "same-origin" }).then(function (r) {
        var type = r.headers.get("content-type") || "";
        return r.ok && type.indexOf("text/html") === 0 ? r.text() : null;
      }).then(function (text) {
        return text === null ? null : new DOMParser().parseFromString(text, "text/html");
      }).catch(function () { return null; }));
    }
    return cache.get(key);
  }

  function clip(text) {
    text = text.replace(/\s+/g, " ").trim();
    return text.length > MAX_CHARS ? text.slice(0, MAX_CHARS - 1).replace(/\s+\S*$/, "") + "\u2026" : text;
  }

  function firstParagraph(from) {
    for (var el = from; el; el = el.nextElementSibling) {
      if (/^H[1-6]$/.test(el.tagName) && el !== from) return "";
      if (el.tagName === "P" && !el.closest(".kb-breadcrumbs") && el.textContent.trim()) return el.textContent;
    }
    return "";
  }

  function summary(doc, hash) {
    var article = doc.querySelector(".md-content__inner") || doc.body;
    if (!article) return null;
    var title = "", text = "";
    var heading = hash ? doc.getElementById(decodeURIComponent(hash.slice(1))) : null;
    if (heading && /^H[1-6]$/.test(heading.tagName) && article.contains(heading)) {
      title = heading.textContent.replace(/\u00b6/g, "");
      text = firstParagraph(heading.nextElementSibling);
    } else {
      var h1 = article.querySelector("h1");
      title = h1 ? h1.textContent.replace(/\u00b6/g, "") : (doc.title || "");
      var ps = article.querySelectorAll("p");
      for (var i = 0; i < ps.length && !text; i++) {
        if (!ps[i].closest(".kb-breadcrumbs, .kb-tags, .kb-updated, .admonition, table, nav") && ps[i].textContent.trim())
          text = ps[i].textContent;
      }
    }
    title = title.trim();
    return title ? { title: title, text: clip(text) } : null;
  }

  function place(a) {
    var r = a.getBoundingClientRect(), w = card.offsetWidth, h = card.offsetHeight;
    var left = Math.min(Math.max(8, r.left), window.innerWidth - w - 8);
    var top = r.bottom + 8;
    if (top + h > window.innerHeight - 8 && r.top - h - 8 > 8) top = r.top - h - 8;
    card.style.left = left + "px";
    card.style.top = top + "px";
  }

  function show(a, url) {
    load(url).then(function (doc) {
      if (current !== a || !doc) return;
      var s = summary(doc, url.hash);
      if (!s) return;
      if (!card) {
        card = document.createElement("div");
        card.className = "kb-preview";
        card.setAttribute("role", "tooltip");
        card.id = "kb-preview";
        card.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
        card.addEventListener("mouseleave", hide);
        document.body.appendChild(card);
      }
      card.textContent = "";
      var t = document.createElement("p");
      t.className = "kb-preview__title";
      t.textContent = s.title;
      card.appendChild(t);
      if (s.text) {
        var p = document.createElement("p");
        p.className = "kb-preview__text";
        p.textContent = s.text;
        card.appendChild(p);
      }
      card.hidden = false;
      a.setAttribute("aria-describedby", "kb-preview");
      place(a);
    });
  }

  function hide() {
    clearTimeout(timer);
    if (current) current.removeAttribute("aria-describedby");
    current = null;
    if (card) card.hidden = true;
  }

  document.addEventListener("mouseover", function (e) {
    var a = e.target.closest ? e.target.closest("a[href]") : null;
    if (!a || a === current) return;
    var url = target(a);
    if (!url) return;
    clearTimeout(timer);
    clearTimeout(hideTimer);
    if (current) hide();
    current = a;
    timer = setTimeout(function () { show(a, url); }, DELAY);
  });
  document.addEventListener("mouseout", function (e) {
    var a = e.target.closest ? e.target.closest("a[href]") : null;
    if (!a || a !== current || (e.relatedTarget && a.contains(e.relatedTarget))) return;
    clearTimeout(timer);
    hideTimer = setTimeout(hide, 200);
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  window.addEventListener("scroll", hide, { passive: true });
  document.addEventListener("click", hide);
})();
