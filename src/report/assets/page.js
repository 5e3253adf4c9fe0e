// Draws the interactive charts of the page `lrtune report` writes, from the
// JSON embedded in it, and makes its tables sortable. Runs from disk with no
// network: uPlot is inlined before this script. Labels are set as text only.
(function () {
  'use strict';
  var status = document.getElementById('lrtune-status');
  var errors = [];
  function noteError(msg) {
    errors.push(String(msg));
    status.setAttribute('data-errors', errors.join(' | '));
    status.textContent = 'errors: ' + errors.join(' | ');
  }
  window.addEventListener('error', function (e) { noteError(e.message); });
  var consoleError = console.error;
  console.error = function () {
    noteError(Array.prototype.join.call(arguments, ' '));
    consoleError.apply(console, arguments);
  };

  var data = JSON.parse(document.getElementById('lrtune-data').textContent);
  var DASHES = [null, [10, 6], [3, 4], [12, 4, 3, 4], [2, 2]];

  function fmt(v, fig) {
    if (v == null || !isFinite(v)) return '—';
    if (fig.scale === 100) return v.toFixed(2) + '%';
    var a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : v.toPrecision(4);
  }

  function hexToRgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + alpha + ')';
  }

  // uPlot wants one shared x array; every line gets null where it has no value.
  function chartData(study, fig) {
    var last = 1;
    study.series.forEach(function (s) {
      if (s.epochs.length) last = Math.max(last, s.epochs[s.epochs.length - 1]);
    });
    if (fig.zoom > 0) last = Math.min(last, fig.zoom);
    var xs = [];
    for (var e = 1; e <= last; e++) xs.push(e);
    var columns = [xs], opts = [{ label: 'epoch', value: function (u, v) { return v == null ? '—' : 'epoch ' + v; } }];
    var bands = [], lines = [];
    function column(s, which) {
      var src = s.values[fig.metric][which], out = new Array(xs.length).fill(null);
      s.epochs.forEach(function (ep, k) {
        var v = src[k];
        if (ep <= last && v != null && isFinite(v)) out[ep - 1] = v * fig.scale;
      });
      return out;
    }
    study.series.forEach(function (s) {
      var idx = columns.length;
      columns.push(column(s, 'mean'));
      opts.push({
        label: s.legend, stroke: s.colour, width: 2, dash: DASHES[s.dash % DASHES.length] || undefined,
        points: { show: last <= 30, size: 5 }, spanGaps: false,
        value: function (u, v) { return fmt(v, fig); }
      });
      var line = { index: idx, series: s };
      if (s.n > 1) {
        line.band = [idx + 1, idx + 2];
        columns.push(column(s, 'hi'), column(s, 'lo'));
        [' max', ' min'].forEach(function (suffix) {
          opts.push({ label: s.label + suffix, stroke: 'transparent', width: 0, points: { show: false },
                      value: function (u, v) { return fmt(v, fig); }, lrtuneBand: true });
        });
        bands.push({ series: [idx + 1, idx + 2], fill: hexToRgba(s.colour, 0.18) });
      }
      lines.push(line);
    });
    return { columns: columns, series: opts, bands: bands, lines: lines };
  }

  // Draws an x at each diverged line's divergence epoch and a filled square
  // at each pruned line's last epoch, in the line's colour.
  function divergenceMarks(lines, fig) {
    return function (u) {
      var ctx = u.ctx, r = 7 * devicePixelRatio;
      lines.forEach(function (line) {
        var s = line.series;
        if (!u.series[line.index].show) return;
        [[s.diverged_epoch, s.markers], [s.pruned_epoch, s.pruned_markers]].forEach(function (m, kind) {
          var epoch = m[0], v = m[1] ? m[1][fig.metric] : null;
          if (epoch == null || v == null || (fig.zoom > 0 && epoch > fig.zoom)) return;
          var x = u.valToPos(epoch, 'x', true), y = u.valToPos(v * fig.scale, 'y', true);
          ctx.save();
          ctx.strokeStyle = ctx.fillStyle = s.colour;
          ctx.lineWidth = 3 * devicePixelRatio;
          ctx.beginPath();
          if (kind === 1) {
            ctx.fillRect(x - r * 0.8, y - r * 0.8, 1.6 * r, 1.6 * r);
          } else {
            ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
            ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
            ctx.stroke();
          }
          ctx.restore();
        });
      });
    };
  }

  // A tooltip naming the line nearest the cursor: trial, epoch, value.
  function tooltipPlugin(lines, fig) {
    var tip = document.createElement('div');
    tip.className = 'tooltip';
    return {
      hooks: {
        init: function (u) { u.over.appendChild(tip); },
        setCursor: function (u) {
          var idx = u.cursor.idx, top = u.cursor.top, best = null, bestD = Infinity;
          if (idx == null || top == null || top < 0) { tip.style.display = 'none'; return; }
          lines.forEach(function (line) {
            var v = u.data[line.index][idx];
            if (v == null || !u.series[line.index].show) return;
            var d = Math.abs(u.valToPos(v, 'y') - top);
            if (d < bestD) { bestD = d; best = line; }
          });
          if (!best) { tip.style.display = 'none'; return; }
          var value = u.data[best.index][idx];
          tip.textContent = best.series.legend + ' — epoch ' + u.data[0][idx] + ': ' + fmt(value, fig);
          tip.style.borderColor = best.series.colour;
          tip.style.display = 'block';
          var left = u.valToPos(u.data[0][idx], 'x') + 12;
          if (left > u.over.clientWidth - 260) left -= 280;
          tip.style.left = left + 'px';
          tip.style.top = (u.valToPos(value, 'y') + 10) + 'px';
        }
      }
    };
  }

  function drawChart(host, study, fig) {
    var d = chartData(study, fig);
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-figure', fig.id);
    host.appendChild(box);
    var width = Math.max(480, Math.min(1200, host.clientWidth || 1000));
    var opts = {
      title: fig.title + ' — ' + study.name,
      width: width, height: 420,
      series: d.series, bands: d.bands,
      scales: { x: { time: false }, y: study.log[fig.id] ? { distr: 3 } : {} },
      // Epoch ticks at whole epochs only.
      axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000] },
             { label: fig.ylabel, size: 70,
               values: function (u, vals) {
                 // Log axes pass null for the ticks they leave unlabelled.
                 return vals.map(function (v) { return v == null ? '' : fig.scale === 100 ? v + '%' : +v.toPrecision(3); });
               } }],
      cursor: { drag: { x: true, y: false }, focus: { prox: 30 } },
      focus: { alpha: 0.35 },
      legend: { live: true },
      hooks: {
        draw: [divergenceMarks(d.lines, fig)],
        setSeries: [function (u, i, o) {
          // A mean line and its band are shown or hidden together.
          d.lines.forEach(function (line) {
            if (line.index !== i || !line.band || !o || o.show == null) return;
            line.band.forEach(function (b) { if (u.series[b].show !== o.show) u.setSeries(b, { show: o.show }); });
          });
        }]
      },
      plugins: [tooltipPlugin(d.lines, fig)]
    };
    var chart = new uPlot(opts, d.columns, box);
    d.series.forEach(function (s, i) {
      if (s.lrtuneBand) {
        var row = chart.root.querySelectorAll('.u-legend .u-series')[i];
        if (row) row.classList.add('lrtune-band');
      }
    });
    return chart;
  }

  // An LR range test: smoothed loss against the rate (log axis), one line per
  // test on the union of their rates, each suggestion marked in its colour.
  var RANGE_MARKS = ['valley', 'steepest', 'min/10'];
  function rangeData(range) {
    var xs = [];
    range.tests.forEach(function (t) { xs = xs.concat(t.lr); });
    xs.sort(function (a, b) { return a - b; });
    xs = xs.filter(function (x, i) { return i === 0 || x !== xs[i - 1]; });
    var at = {};
    xs.forEach(function (x, i) { at[x] = i; });
    var columns = [xs];
    range.tests.forEach(function (t) {
      var col = new Array(xs.length).fill(null);
      t.lr.forEach(function (x, k) { col[at[x]] = t.smoothed[k]; });
      columns.push(col);
    });
    return columns;
  }

  // The smoothed loss of test t at the recorded rate nearest lr (log scale).
  function lossNear(t, lr) {
    var best = 0;
    t.lr.forEach(function (x, k) {
      if (Math.abs(Math.log(x / lr)) < Math.abs(Math.log(t.lr[best] / lr))) best = k;
    });
    return t.smoothed[best];
  }

  function rangeMarks(range) {
    return function (u) {
      var ctx = u.ctx, r = 6 * devicePixelRatio;
      range.tests.forEach(function (t, i) {
        if (!u.series[i + 1].show || !t.lr.length) return;
        RANGE_MARKS.forEach(function (name, k) {
          var lr = t.marks[name];
          if (lr == null) return;
          var x = u.valToPos(lr, 'x', true), y = u.valToPos(lossNear(t, lr), 'y', true);
          ctx.save();
          ctx.strokeStyle = t.colour;
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.beginPath();
          if (k === 0) ctx.arc(x, y, r, 0, 2 * Math.PI);
          else if (k === 1) ctx.rect(x - r, y - r, 2 * r, 2 * r);
          else { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r); ctx.lineTo(x - r, y + r); ctx.closePath(); }
          ctx.stroke();
          ctx.restore();
        });
      });
    };
  }

  function drawRange(host, range) {
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-figure', 'lr-find');
    host.appendChild(box);
    var rate = function (u, v) { return v == null ? '—' : 'lr ' + v.toExponential(2); };
    var series = [{ label: 'learning rate', value: rate }];
    range.tests.forEach(function (t) {
      var marks = RANGE_MARKS.filter(function (m) { return t.marks[m] != null; })
        .map(function (m) { return m + ' ' + t.marks[m].toExponential(2); }).join(', ');
      series.push({ label: t.label + (marks ? ' (' + marks + ')' : ''), stroke: t.colour, width: 2,
                    points: { show: false }, spanGaps: true,
                    value: function (u, v) { return v == null ? '—' : v.toPrecision(4); } });
    });
    // As the PNG does: the top a quarter above the highest loss before each
    // test's minimum, so the final blow-up does not flatten the curves.
    var top = 0;
    range.tests.forEach(function (t) {
      var lowest = 0;
      t.smoothed.forEach(function (v, k) { if (v < t.smoothed[lowest]) lowest = k; });
      for (var k = 0; k <= lowest && k < t.smoothed.length; k++) top = Math.max(top, t.smoothed[k]);
    });
    var width = Math.max(480, Math.min(1200, host.clientWidth || 1000));
    return new uPlot({
      title: 'LR range test — ' + range.name + ' (○ valley, □ steepest, △ min/10)',
      width: width, height: 420, series: series,
      scales: { x: { time: false, distr: 3 },
                y: { range: function (u, min, max) { return [min, top > 0 ? Math.min(max, 1.25 * top) : max]; } } },
      axes: [{ label: 'learning rate', values: function (u, vals) {
                 return vals.map(function (v) { return v == null ? '' : +v.toPrecision(2); }); } },
             { label: 'smoothed training loss', size: 70 }],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      hooks: { draw: [rangeMarks(range)] }
    }, rangeData(range), box);
  }

  // A search study's charts: its objective by trial and by trial-epochs
  // spent with the best so far, and against each searched key. Filled points
  // are finished trials, open ones pruned trials (at their objective so far).
  function pointSeries(label, colour, fill) {
    return { label: label, stroke: colour, width: 0, paths: function () { return null; },
             points: { show: true, size: 9, width: 2, stroke: colour, fill: fill },
             value: function (u, v) { return v == null ? '—' : +v.toPrecision(5); } };
  }

  // A linear x scale a little wider than its points, so none sits on the border.
  function paddedScale() {
    return { time: false, range: function (u, min, max) {
      var pad = (max - min) * 0.04 || 0.5;
      return [min - pad, max + pad];
    } };
  }

  function searchChart(host, id, title, search, rows, x, xAxis, xScale, stepped) {
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-figure', id);
    host.appendChild(box);
    var objective = function (kind) {
      return rows.map(function (r) { return r.t.kind === kind ? r.t.objective : null; });
    };
    var columns = [rows.map(x), objective(1), objective(2)];
    var series = [{ label: xAxis.label, value: function (u, v, si, i) {
                    return i == null || !rows[i] ? '—' : rows[i].t.label; } },
                  pointSeries('finished trial', '#1f77b4', '#1f77b4'),
                  pointSeries('pruned trial', '#ff7f0e', '#ffffff')];
    if (stepped) {
      columns.push(rows.map(function (r) { return r.t.best; }));
      series.push({ label: 'best so far', stroke: '#d62728', width: 2, spanGaps: true,
                    paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } });
    }
    var width = Math.max(480, Math.min(stepped ? 1200 : 760, host.clientWidth || 1000));
    return new uPlot({
      title: title, width: width, height: stepped ? 380 : 320, series: series,
      scales: { x: xScale }, axes: [xAxis, { label: search.objective, size: 70 }],
      cursor: { drag: { x: true, y: false } }, legend: { live: true }
    }, columns, box);
  }

  function drawSearch(host, search) {
    var out = [], all = search.trials.map(function (t) { return { t: t }; });
    out.push(searchChart(host, 'search_history', 'Optimization history by trial', search, all,
      function (r) { return r.t.n; }, { label: 'trial (in draw order)', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
      paddedScale(), true));
    var spent = all.filter(function (r) { return r.t.done > 0; });
    out.push(searchChart(host, 'search_history_epochs', 'Optimization history by trial-epochs spent',
      search, spent, function (r) { return r.t.spent; }, { label: 'trial-epochs spent' },
      paddedScale(), true));
    search.params.forEach(function (p) {
      var rows = [];
      search.trials.forEach(function (t, i) { if (p.x[i] != null && t.kind) rows.push({ t: t, x: p.x[i] }); });
      rows.sort(function (a, b) { return a.x - b.x; });
      var axis = { label: p.title }, scale = p.log ? { time: false, distr: 3 } : paddedScale();
      if (p.categories) {
        scale.range = [-0.5, p.categories.length - 0.5];
        axis.splits = function () { return p.categories.map(function (c, i) { return i; }); };
        axis.values = function (u, vals) { return vals.map(function (v) { return p.categories[v] || ''; }); };
      }
      out.push(searchChart(host, 'search_param_' + p.key, search.objective + ' against ' + p.title,
                           search, rows, function (r) { return r.x; }, axis, scale, false));
    });
    return out;
  }

  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var dir = th.getAttribute('data-dir') === 'asc' ? 'desc' : 'asc';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir);
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
          var nx = parseFloat(x), ny = parseFloat(y), c;
          if (x === '' && y === '') c = 0;
          else if (x === '') return 1;       // empty cells last in both directions
          else if (y === '') return -1;
          else if (!isNaN(nx) && !isNaN(ny)) c = nx - ny;
          else c = x.localeCompare(y, undefined, { numeric: true });
          return dir === 'asc' ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  // Kept reachable for checks from the browser console (and the tests).
  var charts = window.lrtuneCharts = [];
  data.studies.forEach(function (study) {
    var host = document.getElementById(study.anchor + '-charts');
    data.figures.forEach(function (fig) {
      try { charts.push(drawChart(host, study, fig)); } catch (e) { noteError(fig.id + ': ' + e); }
    });
    if (!study.search) return;
    try {
      drawSearch(document.getElementById(study.anchor + '-search-charts'), study.search)
        .forEach(function (c) { charts.push(c); });
    } catch (e) { noteError(study.anchor + ' search: ' + e); }
  });
  (data.ranges || []).forEach(function (range) {
    var host = document.getElementById(range.anchor + '-charts');
    try { charts.push(drawRange(host, range)); } catch (e) { noteError(range.anchor + ': ' + e); }
  });
  var drawn = charts.length;
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), sortable);
  status.setAttribute('data-charts', String(drawn));
  if (!errors.length) status.textContent = drawn + ' charts drawn';
})();
