// llmswitch dashboard, shared part: formatting and DOM helpers, and the hand-written SVG charts
// (requests, tokens, cost and latency per provider; the live strip). dashboard.js loads after it
// and uses window.LLMSwitch. No library, no CDN; textContent only.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var METRICS = [
    { key: "requests", title: "requests", fmt: compact },
    { key: "tokens", title: "tokens", fmt: compact },
    { key: "cost_usd", title: "cost", fmt: usd },
    { key: "latency_ms", title: "latency (mean, ms)", fmt: ms, line: true }
  ];
  var colour = function () { return "#888"; }; // set by each render: the cards pick colours

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function num(n) { return Number(n || 0).toLocaleString("en-US"); }

  function compact(n) {
    var v = Number(n || 0);
    if (v >= 1e6) return +(v / 1e6).toFixed(1) + "M";
    if (v >= 1e4) return +(v / 1e3).toFixed(1) + "k";
    return num(v);
  }

  function usd(n) {
    var v = Number(n || 0);
    return "$" + (v !== 0 && Math.abs(v) < 0.01 ? v.toFixed(6) : v.toFixed(2));
  }

  function ms(n) { return n === null || n === undefined ? "–" : Math.round(n) + " ms"; }

  function pad(n) { return String(n).padStart(2, "0"); }

  function hhmm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() &&
      a.getDate() === b.getDate();
  }

  function clockText(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  function span(seconds) {
    var s = Math.round(Math.abs(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    return m + " min";
  }

  function words(code) { return String(code).replace(/_/g, " "); }

  // One chart: stacked bars per bucket (or a line per provider for latency), hand-drawn SVG.
  function chart(metric, sp, names) {
    var W = 300, H = 110, n = sp.buckets, bw = W / n;
    var series = function (p) { return sp.providers[p][metric.key]; };
    var fig = el("figure", "chart");
    fig.dataset.metric = metric.key;
    var box = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none",
      role: "img", "aria-label": metric.title + " per provider" });
    var nodes = [];
    var total = 0, weight = 0;
    if (metric.line) {
      var max = 1;
      names.forEach(function (p) {
        series(p).forEach(function (v) { if (v !== null && v > max) max = v; });
      });
      names.forEach(function (p) {
        var pts = [], reqs = sp.providers[p].requests, fails = sp.providers[p].failed;
        series(p).forEach(function (v, i) {
          if (v === null) { if (pts.length > 1) nodes.push(line(pts, p)); pts = []; return; }
          var x = (i + 0.5) * bw, y = H - (v / max) * (H - 8);
          pts.push(x.toFixed(2) + "," + y.toFixed(2));
          var dot = svg("circle", { cx: x.toFixed(2), cy: y.toFixed(2), r: 2.2, fill: colour(p),
            "data-provider": p, "data-bucket": i, "data-value": v });
          dot.appendChild(titled(p + ": " + ms(v)));
          nodes.push(dot);
          var ok = reqs[i] - fails[i];
          total += v * ok; weight += ok;
        });
        if (pts.length > 1) nodes.push(line(pts, p));
      });
      fig.dataset.max = max;
    } else {
      var sums = [];
      for (var i = 0; i < n; i++) {
        sums.push(names.reduce(function (s, p) { return s + series(p)[i]; }, 0));
      }
      var top = Math.max.apply(null, sums.concat([0]));
      var scale = top > 0 ? top : 1;
      for (var j = 0; j < n; j++) {
        var y = H;
        names.forEach(function (p) {
          var v = series(p)[j];
          if (!v) return;
          var h = Math.max(0.6, (v / scale) * (H - 8));
          y -= h;
          var r = svg("rect", { x: (j * bw + bw * 0.1).toFixed(2), y: y.toFixed(2),
            width: (bw * 0.8).toFixed(2), height: h.toFixed(2), fill: colour(p),
            "data-provider": p, "data-bucket": j, "data-value": v });
          r.appendChild(titled(p + ": " + metric.fmt(v)));
          nodes.push(r);
          total += v;
        });
      }
      fig.dataset.max = top;
    }
    box.replaceChildren.apply(box, nodes);
    var shown = metric.line ? (weight ? ms(total / weight) : "–") : metric.fmt(total);
    fig.dataset.total = metric.line ? (weight ? total / weight : "") : total;
    var cap = el("figcaption");
    cap.appendChild(el("span", null, metric.title));
    cap.appendChild(el("strong", null, shown));
    fig.appendChild(cap);
    fig.appendChild(box);
    fig.appendChild(axis(sp));
    return fig;
  }

  function line(pts, p) {
    return svg("polyline", { points: pts.join(" "), fill: "none", stroke: colour(p),
      "stroke-width": 1.5, "vector-effect": "non-scaling-stroke", "data-provider": p });
  }

  function titled(text) {
    var t = document.createElementNS(SVG, "title");
    t.textContent = text;
    return t;
  }

  function axis(sp) {
    var row = el("div", "axis muted");
    if (sp.bucket_s >= 3600) {
      ["00:00", "12:00", "24:00 UTC"].forEach(function (t) { row.appendChild(el("span", null, t)); });
    } else {
      row.appendChild(el("span", null, hhmm(new Date(sp.start * 1000))));
      row.appendChild(el("span", null, hhmm(new Date((sp.start + sp.bucket_s * sp.buckets) * 1000))));
    }
    return row;
  }

  function renderCharts(data, range, colourOf) {
    colour = colourOf;
    var body = $("charts-body");
    var groups = Object.keys(data.spans).map(function (name) {
      var sp = data.spans[name];
      var names = Object.keys(sp.providers);
      var g = el("div", "chart-grid");
      g.dataset.range = name;
      g.hidden = name !== range;
      METRICS.forEach(function (m) { g.appendChild(chart(m, sp, names)); });
      return g;
    });
    body.replaceChildren.apply(body, groups);
    var sp = data.spans[range];
    var legend = $("charts-legend");
    var items = Object.keys(sp.providers).map(function (p) {
      var item = el("span", null);
      item.dataset.provider = p;
      var sum = sp.providers[p].requests.reduce(function (a, b) { return a + b; }, 0);
      item.dataset.requests = sum;
      var sw = el("i");
      sw.style.background = colour(p);
      item.appendChild(sw);
      item.appendChild(document.createTextNode(p + " (" + sum + ")"));
      return item;
    });
    if (!items.length) items = [el("span", "muted", "no requests in this span")];
    legend.replaceChildren.apply(legend, items);
    $("charts-note").textContent = data.complete ? "" :
      "the ledger keeps fewer of today's attempts than the roll-ups count: the chart shows the " +
      num(data.entries_read) + " newest; the totals above stay exact";
    document.querySelectorAll("#charts .ranges button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.range === range));
    });
    document.body.dataset.charts = "1";
  }

  function renderLive(history, colourOf) {
    colour = colourOf;
    var box = $("chart");
    var names = history.providers;
    var len = names.length ? history.series[names[0]].length : 0;
    var totals = [];
    for (var i = 0; i < len; i++) {
      totals.push(names.reduce(function (s, n) { return s + history.series[n][i]; }, 0));
    }
    var max = Math.max(1, Math.max.apply(null, totals.concat([0])));
    var W = 600, H = 120, bw = len ? W / len : W;
    var nodes = [];
    for (var j = 0; j < len; j++) {
      var y = H;
      names.forEach(function (n) {
        var v = history.series[n][j];
        if (!v) return;
        var h = (v / max) * (H - 6);
        y -= h;
        var r = svg("rect", { x: (j * bw + bw * 0.1).toFixed(2), y: y.toFixed(2),
          width: (bw * 0.8).toFixed(2), height: h.toFixed(2), fill: colour(n),
          "data-provider": n, "data-count": v });
        r.appendChild(titled(n + ": " + v));
        nodes.push(r);
      });
    }
    box.replaceChildren.apply(box, nodes);
    box.dataset.max = max;
    var legend = $("legend");
    legend.replaceChildren.apply(legend, names.map(function (n) {
      var item = el("span", null);
      item.dataset.provider = n;
      var sw = el("i");
      sw.style.background = colour(n);
      item.appendChild(sw);
      var sum = history.series[n].reduce(function (a, b) { return a + b; }, 0);
      item.dataset.total = sum;
      item.appendChild(document.createTextNode(n + " (" + sum + ")"));
      return item;
    }));
    var secs = history.bucket_s * len;
    $("axis-start").textContent = "−" + (secs >= 120 ? Math.round(secs / 60) + " min" : secs + " s");
  }

  window.LLMSwitch = {
    $: $, el: el, num: num, compact: compact, usd: usd, ms: ms, pad: pad, hhmm: hhmm,
    sameDay: sameDay, clockText: clockText, span: span, words: words,
    renderCharts: renderCharts, renderLive: renderLive
  };
})();
