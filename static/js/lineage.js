// Lineage's few behaviours, attached by data attributes: no inline script
// anywhere, so the Content-Security-Policy can forbid it.
(function () {
  "use strict";

  // <form data-reset-after-swap>: clear the form once its HTMX request succeeded.
  // <form data-clears="SELECTOR">: remove that element (a placeholder) once it did.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    if (!form || !event.detail.successful) return;
    if (form.hasAttribute("data-reset-after-swap")) form.reset();
    var clears = form.getAttribute("data-clears");
    if (clears) document.querySelectorAll(clears).forEach(function (el) { el.remove(); });
  });

  // The phone menu: the navigation folds behind a button (shown without
  // script, when the button cannot work).
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector(".topbar");
    if (bar) bar.classList.remove("no-script");
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-menu]");
    if (!button) return;
    var bar = button.closest(".topbar");
    var open = !bar.classList.contains("open");
    bar.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // <a data-expands="ID">: show or hide the row ID; its content is loaded
  // (HTMX, on the "run-open" event) the first time it is shown. Without
  // script the link opens the run's page instead.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-expands]");
    if (!toggle) return;
    var target = document.getElementById(toggle.getAttribute("data-expands"));
    if (!target) return;
    event.preventDefault();
    var open = target.hidden;
    target.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open && window.htmx) window.htmx.trigger(target, "run-open");
  });
  document.addEventListener("keydown", function (event) {
    // role="button" links answer Space as buttons do.
    if (event.key !== " ") return;
    var toggle = event.target.closest && event.target.closest("[data-expands]");
    if (toggle) { event.preventDefault(); toggle.click(); }
  });

  // A running trace's page: when a refresh of its live part shows new or
  // finished steps, redraw the lineage graph too (the finished answer asks
  // for that itself, with an HX-Trigger header).
  var graphKey = null;
  document.addEventListener("htmx:afterSettle", function () {
    var live = document.getElementById("trace-live");
    if (!live || !live.hasAttribute("data-graph-key")) return;
    var key = live.getAttribute("data-graph-key");
    if (graphKey !== null && key !== graphKey && window.htmx) window.htmx.trigger(document.body, "lineage-changed");
    graphKey = key;
  });

  // <button data-copy="TEXT">: put TEXT on the clipboard and say so.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  });
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  // <time datetime=… data-relative>: “12 min ago”, kept current while the
  // page stays open (the same words formatting.format_ago writes).
  function ago(seconds, element) {
    if (seconds < 5) return "just now";
    if (seconds < 60) return Math.floor(seconds) + " s ago";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    return null; // older: the server's day and time stay
  }
  function refreshTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var words = ago((now - Date.parse(el.getAttribute("datetime"))) / 1000, el);
      if (words && el.textContent !== words) el.textContent = words;
    });
  }
  setInterval(refreshTimes, 15000);

  // The lineage graph: one focusable viewport that pans (drag, arrow keys)
  // and zooms (buttons, + and -), never below the scale at which a label
  // is 11 px tall. Graphviz draws labels 12 units high, 1 unit = 1 px at 100 %.
  var LABEL_UNITS = 12;
  var MIN_LABEL_PX = 11;
  // A hair above 11/12, so rounding of the drawn size never lands below 11 px.
  var MIN_SCALE = (MIN_LABEL_PX + 0.05) / LABEL_UNITS;

  function setupGraph(viewport) {
    if (viewport.dataset.ready) return;
    var svg = viewport.querySelector("svg");
    if (!svg) return;
    viewport.dataset.ready = "1";
    var box = svg.viewBox.baseVal;
    var natural = { width: box.width, height: box.height };
    var scale = 1;
    function apply(next) {
      scale = Math.max(MIN_SCALE, Math.min(3, next));
      svg.setAttribute("width", String(natural.width * scale));
      svg.setAttribute("height", String(natural.height * scale));
      viewport.dataset.scale = scale.toFixed(3);
      var label = viewport.parentNode.querySelector("[data-graph-scale]");
      if (label) label.textContent = Math.round(scale * 100) + " %";
    }
    function fit() {
      var width = viewport.clientWidth - 16;
      var height = (parseFloat(getComputedStyle(viewport).maxHeight) || 560) - 16;
      apply(Math.min(1, width / natural.width, height / natural.height));
      centreOn(rootNode() || svg);
    }
    function rootNode() {
      var id = viewport.getAttribute("data-root");
      return id ? document.getElementById(id) : null;
    }
    function centreOn(node) {
      var view = viewport.getBoundingClientRect();
      var rect = node.getBoundingClientRect();
      viewport.scrollLeft += rect.left + rect.width / 2 - (view.left + view.width / 2);
      viewport.scrollTop += rect.top + rect.height / 2 - (view.top + view.height / 2);
    }
    var controls = viewport.parentNode;
    controls.querySelectorAll("[data-graph-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-graph-zoom");
        if (how === "fit") fit();
        else if (how === "actual") { apply(1); centreOn(rootNode() || svg); }
        else apply(scale * (how === "in" ? 1.25 : 0.8));
      });
    });
    viewport.addEventListener("keydown", function (event) {
      var step = 60;
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[event.key]) {
        viewport.scrollLeft += moves[event.key][0];
        viewport.scrollTop += moves[event.key][1];
        event.preventDefault();
      } else if (event.key === "+" || event.key === "=") { apply(scale * 1.25); event.preventDefault(); }
      else if (event.key === "-") { apply(scale * 0.8); event.preventDefault(); }
      else if (event.key === "0") { fit(); event.preventDefault(); }
    });
    var drag = null;
    viewport.addEventListener("pointerdown", function (event) {
      if (event.button !== 0 || event.target.closest("a")) return;
      drag = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
      viewport.classList.add("dragging");
    });
    window.addEventListener("pointermove", function (event) {
      if (!drag) return;
      viewport.scrollLeft = drag.left - (event.clientX - drag.x);
      viewport.scrollTop = drag.top - (event.clientY - drag.y);
    });
    window.addEventListener("pointerup", function () {
      drag = null;
      viewport.classList.remove("dragging");
    });
    // A folded node (“12 alerts fired ▸”) unfolds in place.
    viewport.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".node.fold a");
      if (!link || !window.htmx) return;
      event.preventDefault();
      var href = link.getAttribute("href") || link.getAttributeNS("http://www.w3.org/1999/xlink", "href");
      var panel = document.getElementById("lineage-graph");
      window.htmx.ajax("GET", href, { target: panel, swap: "innerHTML" });
    });
    fit();
  }
  function setupGraphs(root) {
    (root || document).querySelectorAll("[data-graph-viewport]").forEach(setupGraph);
  }
  document.addEventListener("htmx:afterSettle", function (event) { setupGraphs(event.target); });
  document.addEventListener("DOMContentLoaded", function () {
    setupGraphs(document);
    var live = document.getElementById("trace-live");
    if (live) graphKey = live.getAttribute("data-graph-key");
  });
})();
