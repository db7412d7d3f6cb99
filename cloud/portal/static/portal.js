// The portal's small script: the reader's time zone, sorting and filtering the Stock
// table, and live levels from the portal's event stream. No library, no build step.
(function () {
  "use strict";
  var body = document.body;
  var prefix = body.dataset.prefix || "/portal";

  // The zone the server formats times in: the browser's own.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("vmi_tz=" + encodeURIComponent(tz)) < 0) {
      document.cookie = "vmi_tz=" + encodeURIComponent(tz) + "; path=" + prefix + "; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: times stay in UTC, as the footer says */ }

  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    if (kind === "number") {
      var v = parseFloat(cell.dataset.value);
      return isNaN(v) ? -Infinity : v;
    }
    return cell.textContent.trim().toLowerCase();
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th, index) {
      th.tabIndex = 0;
      function sort() {
        var kind = th.dataset.sort;
        var up = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var tbody = table.tBodies[0];
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });
  });

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.querySelector(input.dataset.filter);
    if (!table) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = needle !== "" && row.dataset.key.toLowerCase().indexOf(needle) < 0;
      });
    });
  });

  // Live levels: the stream opens with every shelf's current level per location,
  // then sends each newer one; the row shows the sum over its locations.
  var stock = document.getElementById("stock");
  if (stock && body.dataset.live && window.EventSource) {
    var held = {};
    var number = new Intl.NumberFormat(body.dataset.locale === "zh" ? "zh-CN" : "en", { maximumFractionDigits: 1 });
    var source = new EventSource(body.dataset.live);
    var badge = document.querySelector(".live");
    source.addEventListener("open", function () { if (badge) { badge.hidden = false; } });
    source.addEventListener("error", function () { if (badge) { badge.hidden = true; } });
    source.addEventListener("level", function (event) {
      var level = JSON.parse(event.data);
      var key = level.site + "|" + level.sku;
      var row = stock.querySelector('tr[data-key="' + CSS.escape(key) + '"]');
      if (!row) { return; }
      var spots = held[key] || (held[key] = {});
      spots[level.location] = level.quantity;
      var total = 0;
      Object.keys(spots).forEach(function (k) { total += spots[k]; });
      var cell = row.querySelector(".on-hand");
      if (cell && cell.dataset.value !== String(total)) {
        cell.dataset.value = String(total);
        cell.textContent = number.format(total);
        row.classList.remove("changed");
        void row.offsetWidth;  // restart the highlight
        row.classList.add("changed");
      }
    });
  }
})();
