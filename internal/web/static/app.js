// Kangfu console behaviour. No inline script anywhere: the CSP forbids it.
"use strict";
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var msg = form.getAttribute && form.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
}, true);

// On a phone a list table shows one card per row (see app.css);
// each cell is labelled with its column's heading.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.grid:not(.calendar)").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (!td.hasAttribute("colspan") && heads[i]) { td.setAttribute("data-label", heads[i]); }
      });
    });
  });
});
