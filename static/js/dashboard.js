/* The dashboard (templates/dashboard.html): sortable tables and the 30-day chart.
 * The chart's data is JSON in the page (#dashboard-chart-data); Chart.js is vendored under
 * static/vendor/chartjs (no CDN). A CJK font stack so that Chinese labels read well. */
(function () {
  "use strict";

  var CJK_FONTS = '-apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", ' +
    '"Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
  var COLORS = ["#007bff", "#fd7e14", "#28a745", "#6f42c1", "#dc3545", "#17a2b8"];

  // A cell's sort key: data-value if given, else the leading number ("12 / 35" -> 12) or the text.
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-value");
    var text = raw !== null ? raw : cell.textContent.trim();
    return numeric ? parseFloat(text) || 0 : text;
  }

  function makeSortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      if (!th.hasAttribute("data-sort")) { return; }
      // The header stays a column header (aria-sort says its order); a real button inside it takes the click,
      // Tab and Enter or Space, so the table sorts from the keyboard too (issue 22).
      var button = document.createElement("button");
      button.type = "button";
      button.className = "crm-sort-button";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var numeric = th.getAttribute("data-sort") === "number";
        var ascending = !th.classList.contains("crm-sorted-asc");
        Array.prototype.forEach.call(headers, function (h) {
          h.classList.remove("crm-sorted-asc", "crm-sorted-desc");
          if (h.hasAttribute("aria-sort")) { h.setAttribute("aria-sort", "none"); }
        });
        th.classList.add(ascending ? "crm-sorted-asc" : "crm-sorted-desc");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          var order = numeric ? x - y : String(x).localeCompare(String(y), "zh-CN");
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function drawChart(canvasId) {
    var canvas = document.getElementById(canvasId);
    var source = document.getElementById(canvasId + "-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    Chart.defaults.font.family = CJK_FONTS;
    data.datasets.forEach(function (set, i) {
      set.borderColor = COLORS[i % COLORS.length];
      set.backgroundColor = COLORS[i % COLORS.length];
      set.tension = 0.2;
    });
    var options = {
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    };
    // Whoever asked for less motion gets the finished chart at once (and so do the guide's screenshots).
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) { options.animation = false; }
    new Chart(canvas, { type: "line", data: data, options: options });
  }

  document.querySelectorAll("table.crm-sortable").forEach(makeSortable);
  drawChart("dashboard-chart");
  drawChart("dashboard-group-chart");
})();
