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
})();
