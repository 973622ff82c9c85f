// reports.js: the reports dashboard (issue 12 §2). Draws the monthly trend
// of the chosen figure with ECharts (vendored, no CDN) from the JSON in
// #trend-data, and sorts the comparison table by a clicked column (the
// total row stays last). Marks body[data-loaded=reports] once drawn.
(function () {
  'use strict';
  function sortable(table) {
    var heads = table.querySelectorAll('thead th');
    heads.forEach(function (th, i) {
      var dir = 1;
      function sort() {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var num = th.getAttribute('data-sort') === 'num';
        rows.sort(function (a, b) {
          var x = a.cells[i].getAttribute('data-v') || '', y = b.cells[i].getAttribute('data-v') || '';
          if (num) { return dir * ((parseFloat(x) || 0) - (parseFloat(y) || 0)); }
          return dir * x.localeCompare(y, 'zh-CN');
        });
        rows.forEach(function (r) { body.appendChild(r); });
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
        dir = -dir;
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  }
  function chart() {
    var el = document.getElementById('trend-chart');
    var data = document.getElementById('trend-data');
    var pick = document.getElementById('trend-pick');
    if (!el || !data || !window.echarts) { return; }
    var t = JSON.parse(data.textContent);
    var c = window.echarts.init(el, null, { renderer: 'canvas' });
    function draw() {
      var s = t.series[pick.value];
      if (!s) { return; }
      var pct = s.kind === 'rate';
      c.setOption({
        animation: false,
        grid: { left: 48, right: 16, top: 24, bottom: 32 },
        tooltip: { trigger: 'axis', renderMode: 'richText' },
        xAxis: { type: 'category', data: t.months.map(function (m) { return m.slice(5); }) },
        yAxis: { type: 'value', min: 0, max: pct ? 100 : null, axisLabel: { formatter: pct ? '{value}%' : '{value}' } },
        series: [{ name: s.name, type: s.kind === 'count' ? 'bar' : 'line', data: s.values, connectNulls: false, itemStyle: { color: '#2b6cb0' } }]
      }, true);
    }
    draw();
    pick.addEventListener('change', draw);
    window.addEventListener('resize', function () { c.resize(); });
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('table.sortable').forEach(sortable);
    chart();
    document.body.setAttribute('data-loaded', 'reports');
  });
})();
