// llmswitch dashboard: polls /api/dashboard every 1.5 s and redraws cards, chart, savings and
// the recent alerts.
// Plain DOM (textContent only: provider error messages are never parsed as HTML), no library,
// no CDN. When the gateway needs LLMSWITCH_API_KEY the page asks for it once per tab.
(function () {
  "use strict";
  var POLL_MS = 1500;
  var COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d"];
  var FAILED_COLOR = "#dc2626";
  var SVG = "http://www.w3.org/2000/svg";
  var lastData = null;
  var lastPoll = 0;
  var colorOf = {};

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
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

  function clockText(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  function bar(kind, caption, unit, w) {
    var box = el("div", "bar");
    box.dataset.window = kind;
    var label = el("div", "label");
    label.appendChild(el("span", null, caption));
    var fill = el("div", "fill");
    if (w) {
      var frac = w.limit ? Math.min(1, w.used / w.limit) : 0;
      label.appendChild(el("span", "value", compact(w.used) + " / " + compact(w.limit) + " " + unit));
      fill.style.width = (frac * 100).toFixed(1) + "%";
      if (frac >= 1) fill.className += " full"; else if (frac >= 0.8) fill.className += " high";
      box.dataset.used = w.used;
      box.dataset.limit = w.limit;
    } else {
      label.appendChild(el("span", "muted", "no limit"));
    }
    var track = el("div", "track");
    track.appendChild(fill);
    box.appendChild(label);
    box.appendChild(track);
    return box;
  }

  function card(name, p) {
    var c = el("article", "card status-" + p.status);
    c.dataset.provider = name;
    c.dataset.status = p.status;
    var head = el("header");
    head.appendChild(el("h3", null, name));
    head.appendChild(el("span", "badge", p.status.replace(/_/g, " ")));
    if (p.is_current) head.appendChild(el("span", "current", "● current"));
    c.appendChild(head);
    var meta = "priority " + p.priority + " · " + (p.free ? "free" : "paid");
    if (p.default_model) meta += " · " + p.default_model;
    c.appendChild(el("div", "muted meta", meta));
    var w = p.windows || {};
    var minute = w.rpm ? ["rpm", "requests", w.rpm] : ["tpm", "tokens", w.tpm];
    var day = w.tpd ? ["tpd", "tokens", w.tpd] : ["rpd", "requests", w.rpd];
    c.appendChild(bar(minute[0], "minute", minute[1], minute[2]));
    c.appendChild(bar(day[0], "day", day[1], day[2]));
    if (p.cooldown_remaining_s > 0) {
      var cd = el("div", "cooldown", "cooling down " + clockText(p.cooldown_remaining_s));
      cd.dataset.remaining = p.cooldown_remaining_s;
      c.appendChild(cd);
    }
    var models = p.models || {};
    Object.keys(models).forEach(function (m) {
      var mc = models[m];
      if (!mc || mc.circuit === "closed" || mc.circuit === "unknown") return;
      var why = mc.last_error_kind ? " after " + mc.last_error_kind : "";
      var until = mc.cooldown_until ? " until " +
        new Date(mc.cooldown_until * 1000).toLocaleTimeString() : "";
      var row = el("div", "model-circuit", "model " + m + ": " +
        mc.circuit.replace(/_/g, " ") + why + until);
      row.dataset.model = m;
      row.dataset.circuit = mc.circuit;
      c.appendChild(row);
    });
    if (p.last_error) {
      var when = p.last_error.time ? new Date(p.last_error.time * 1000).toLocaleTimeString() : "";
      c.appendChild(el("div", "error", "last error: " + p.last_error.kind + " — " +
        (p.last_error.message || "") + (when ? " (" + when + ")" : "")));
    }
    var cost = el("div", "muted cost", "cost today " + usd(p.cost_today_usd) + " · " +
      num(p.tokens_today) + " tokens · " + num(p.requests_today) +
      (p.requests_today === 1 ? " request" : " requests") +
      (p.latency_ms !== null && p.latency_ms !== undefined ? " · " + p.latency_ms + " ms" : ""));
    cost.dataset.cost = p.cost_today_usd;
    c.appendChild(cost);
    return c;
  }

  function renderCards(status) {
    var names = Object.keys(status.providers).sort(function (a, b) {
      return status.providers[a].priority - status.providers[b].priority;
    });
    names.forEach(function (n, i) { if (!colorOf[n]) colorOf[n] = COLORS[i % COLORS.length]; });
    var box = $("cards");
    box.replaceChildren.apply(box, names.map(function (n) { return card(n, status.providers[n]); }));
  }

  function renderChart(history) {
    var svg = $("chart");
    var names = history.providers;
    var len = names.length ? history.series[names[0]].length : 0;
    var totals = [];
    for (var i = 0; i < len; i++) {
      totals.push(names.reduce(function (s, n) { return s + history.series[n][i]; }, 0));
    }
    var max = Math.max(1, Math.max.apply(null, totals.concat([0])));
    var W = 600, H = 200, bw = len ? W / len : W;
    var nodes = [];
    for (var j = 0; j < len; j++) {
      var y = H;
      names.forEach(function (n) {
        var v = history.series[n][j];
        if (!v) return;
        var h = (v / max) * (H - 10);
        y -= h;
        var r = document.createElementNS(SVG, "rect");
        r.setAttribute("x", (j * bw + bw * 0.1).toFixed(2));
        r.setAttribute("y", y.toFixed(2));
        r.setAttribute("width", (bw * 0.8).toFixed(2));
        r.setAttribute("height", h.toFixed(2));
        r.setAttribute("fill", n === "failed" ? FAILED_COLOR : (colorOf[n] || "#888"));
        r.setAttribute("data-provider", n);
        r.setAttribute("data-count", v);
        var t = document.createElementNS(SVG, "title");
        t.textContent = n + ": " + v;
        r.appendChild(t);
        nodes.push(r);
      });
    }
    svg.replaceChildren.apply(svg, nodes);
    svg.dataset.max = max;
    var legend = $("legend");
    legend.replaceChildren.apply(legend, names.map(function (n) {
      var item = el("span", null);
      item.dataset.provider = n;
      var sw = el("i");
      sw.style.background = n === "failed" ? FAILED_COLOR : (colorOf[n] || "#888");
      item.appendChild(sw);
      var sum = history.series[n].reduce(function (a, b) { return a + b; }, 0);
      item.dataset.total = sum;
      item.appendChild(document.createTextNode(n + " (" + sum + ")"));
      return item;
    }));
    var span = history.bucket_s * len;
    $("axis-start").textContent = "−" + (span >= 120 ? Math.round(span / 60) + " min" : span + " s");
  }

  var GOOD_ALERTS = { recovered: 1, available_again: 1, store_recovered: 1 };
  var BAD_ALERTS = { cooldown: 1, auth_failed: 1, all_unavailable: 1, store_degraded: 1 };

  function renderAlerts(alerts) {
    // Newest first, as the status API sends them; the server bounds the list.
    var items = (alerts || []).map(function (a) {
      var tone = GOOD_ALERTS[a.kind] ? " good" : (BAD_ALERTS[a.kind] ? " bad" : "");
      var li = el("li", "alert" + tone);
      li.dataset.kind = a.kind;
      li.dataset.ts = a.ts;
      if (a.provider) li.dataset.provider = a.provider;
      li.appendChild(el("time", "muted", new Date(a.ts * 1000).toLocaleTimeString()));
      li.appendChild(el("span", "badge", a.kind.replace(/_/g, " ")));
      li.appendChild(el("span", "msg", a.message));
      return li;
    });
    if (!items.length) items = [el("li", "muted empty", "no alerts")];
    var list = $("alerts");
    list.replaceChildren.apply(list, items);
  }

  function renderState(st) {
    // "redis · healthy" or "redis · DEGRADED: <detail> (fail closed)".
    var node = $("state");
    if (!st) { node.textContent = ""; return; }
    var degraded = st.ok === false || st.status === "degraded";
    var text = st.backend + " · " + (degraded ? "DEGRADED" : "healthy");
    if (degraded && st.detail) text += ": " + st.detail;
    if (degraded && st.fail_open !== undefined) {
      text += st.fail_open ? " (fail open: per-process limits)" : " (fail closed)";
    }
    node.textContent = text;
    node.className = degraded ? "degraded" : "";
    node.dataset.ok = degraded ? "0" : "1";
  }

  function render(data) {
    var s = data.status;
    $("current").textContent = s.current_provider || "none";
    $("strategy").textContent = s.strategy || "";
    renderState(s.state);
    renderCards(s);
    renderAlerts(s.alerts);
    renderChart(data.history);
    var sv = data.savings || {};
    $("savings").textContent = usd(sv.usd);
    $("savings").dataset.usd = sv.usd || 0;
    $("savings-detail").textContent = sv.reference
      ? num(sv.free_calls) + " free calls priced at " + sv.reference.provider + "/" +
        sv.reference.model + " ($" + sv.reference.price_in_per_mtok + " in / $" +
        sv.reference.price_out_per_mtok + " out per 1M tokens)"
      : "no paid provider configured to compare with";
    $("spent").textContent = usd((data.usage || {}).total_cost_usd);
    document.body.dataset.ready = "1";
  }

  function tick() {
    // Count cooldowns down between polls so the page moves every second.
    if (!lastData) return;
    var elapsed = (Date.now() - lastPoll) / 1000;
    var nodes = document.querySelectorAll(".cooldown");
    for (var i = 0; i < nodes.length; i++) {
      var left = Number(nodes[i].dataset.remaining) - elapsed;
      nodes[i].textContent = "cooling down " + clockText(left);
    }
    $("updated").textContent = "updated " + Math.round(elapsed) + " s ago";
  }

  function headers() {
    var key = sessionStorage.getItem("llmswitch-key");
    return key ? { Authorization: "Bearer " + key } : {};
  }

  function poll() {
    fetch("/api/dashboard", { headers: headers(), cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { $("auth").hidden = false; throw new Error("auth"); }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        $("auth").hidden = true;
        lastData = data;
        lastPoll = Date.now();
        render(data);
        $("updated").textContent = "live";
      })
      .catch(function (e) {
        if (e.message !== "auth") $("updated").textContent = "gateway unreachable (" + e.message + ")";
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  $("auth-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    sessionStorage.setItem("llmswitch-key", $("auth-key").value);
    $("auth-key").value = "";
    $("auth").hidden = true;
  });
  setInterval(tick, 1000);
  poll();
})();
