// llmswitch dashboard: polls /api/dashboard every 1.5 s (cards, savings, alerts, live strip) and
// /api/dashboard/charts every 10 s (requests, tokens, cost and latency per provider over the
// last hour and today), and redraws.
// Plain DOM (textContent only: provider error messages are never parsed as HTML); the helpers
// and the hand-written SVG charts are in dashboard-charts.js (loaded first: window.LLMSwitch); no
// library, no CDN. When the gateway needs LLMSWITCH_API_KEY the page asks for it once per tab. Every time shown is the gateway's clock; when that clock is far from this
// computer's (a simulated run such as `llmswitch demo`), the header says "simulated time".
(function () {
  "use strict";
  var POLL_MS = 1500;
  var CHARTS_MS = 10000;
  var SKEW_S = 120; // a gateway clock further than this from the browser's is labelled simulated
  var COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d"];
  var FAILED_COLOR = "#dc2626";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var lastData = null;
  var lastCharts = null;
  var lastPoll = 0;
  var range = "hour";
  var chartsStarted = false;
  var colorOf = {};

  var L = window.LLMSwitch;
  var $ = L.$, el = L.el, num = L.num, compact = L.compact, usd = L.usd;
  var pad = L.pad, hhmm = L.hhmm, sameDay = L.sameDay, clockText = L.clockText;
  var span = L.span, words = L.words;

  // "14:02" on the gateway's current day, "May 28 14:02" on another (seconds on request).
  function when(ts, seconds) {
    var d = new Date(ts * 1000);
    var now = new Date(((lastData && lastData.status.time) || ts) * 1000);
    var t = hhmm(d) + (seconds ? ":" + pad(d.getSeconds()) : "");
    return sameDay(d, now) ? t : MONTHS[d.getMonth()] + " " + d.getDate() + " " + t;
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

  // The last error on one line with its time; the whole text when the line is opened.
  function lastError(e) {
    var box = el("details", "last-error");
    box.dataset.kind = e.kind;
    if (e.time) box.dataset.time = e.time;
    var line = "last error" + (e.time ? " " + when(e.time) : "") + " · " + (e.summary || e.kind);
    var head = el("summary");
    var text = el("span", "line", line);
    text.dataset.line = line;
    head.appendChild(text);
    box.appendChild(head);
    box.appendChild(el("pre", "whole", e.kind + ": " + (e.message || "")));
    return box;
  }

  // Why a provider takes no calls, in admission's words, and until when if known.
  // A cooldown also counts down between polls ("3:31 left").
  function reason(p) {
    var text = "not taking calls: " + words(p.reason || p.status);
    if (p.available_at) text += " · until " + when(p.available_at, true);
    var node = el("div", "reason", text);
    node.dataset.reason = p.reason || p.status;
    if (p.available_at) node.dataset.availableAt = p.available_at;
    if (p.cooldown_remaining_s > 0) {
      var cd = el("span", "cooldown", " · " + clockText(p.cooldown_remaining_s) + " left");
      cd.dataset.remaining = p.cooldown_remaining_s;
      node.appendChild(cd);
    }
    return node;
  }

  // With several keys, each key's own state: which one waits for what.
  function keyReasons(keys) {
    var list = el("ul", "keys");
    keys.forEach(function (k) {
      var text = k.alias + ": " + (k.reason ? words(k.reason) : words(k.status));
      if (k.reason && k.available_at) text += " · until " + when(k.available_at, true);
      var li = el("li", null, text);
      li.dataset.key = k.alias;
      li.dataset.reason = k.reason || "";
      list.appendChild(li);
    });
    return list;
  }

  function card(name, p) {
    var c = el("article", "card status-" + p.status);
    c.dataset.provider = name;
    c.dataset.status = p.status;
    var head = el("header");
    head.appendChild(el("h3", null, name));
    head.appendChild(el("span", "badge", words(p.status)));
    if (p.is_current) head.appendChild(el("span", "current", "● current"));
    c.appendChild(head);
    var meta = "priority " + p.priority + " · " + (p.free ? "free" : "paid");
    if (p.default_model) meta += " · " + p.default_model;
    c.appendChild(el("div", "muted meta", meta));
    if (p.status !== "available") {
      c.appendChild(reason(p));
      if ((p.keys || []).length > 1) c.appendChild(keyReasons(p.keys));
    }
    var w = p.windows || {};
    var minute = w.rpm ? ["rpm", "requests", w.rpm] : ["tpm", "tokens", w.tpm];
    var day = w.tpd ? ["tpd", "tokens", w.tpd] : ["rpd", "requests", w.rpd];
    c.appendChild(bar(minute[0], "minute", minute[1], minute[2]));
    c.appendChild(bar(day[0], "day", day[1], day[2]));
    var models = p.models || {};
    Object.keys(models).forEach(function (m) {
      var mc = models[m];
      if (!mc || mc.circuit === "closed" || mc.circuit === "unknown") return;
      var why = mc.last_error_kind ? " after " + mc.last_error_kind : "";
      var until = mc.cooldown_until ? " until " + when(mc.cooldown_until, true) : "";
      var row = el("div", "model-circuit", "model " + m + ": " + words(mc.circuit) + why + until);
      row.dataset.model = m;
      row.dataset.circuit = mc.circuit;
      c.appendChild(row);
    });
    if (p.last_error) c.appendChild(lastError(p.last_error));
    var cost = el("div", "muted cost", "cost today " + usd(p.cost_today_usd) + " · " +
      num(p.tokens_today) + " tokens · " + num(p.requests_today) +
      (p.requests_today === 1 ? " request" : " requests") +
      (p.latency_ms !== null && p.latency_ms !== undefined ? " · " + p.latency_ms + " ms" : ""));
    cost.dataset.cost = p.cost_today_usd;
    c.appendChild(cost);
    return c;
  }

  // Shorten a one-line text, a word at a time, until it fits its box (it is in the page now);
  // "last error 14:02 · kind" always stays.
  function fitOneLine(node) {
    var parts = node.dataset.line.replace(/…$/, "").split(" ");
    var cut = false;
    while (node.scrollWidth > node.clientWidth + 1 && parts.length > 5) {
      parts.pop();
      cut = true;
      node.textContent = parts.join(" ").replace(/[\s,;:.(—-]+$/, "") + "…";
    }
    if (!cut) node.textContent = node.dataset.line;
  }

  function renderCards(status) {
    var names = Object.keys(status.providers).sort(function (a, b) {
      return status.providers[a].priority - status.providers[b].priority;
    });
    names.forEach(function (n, i) { if (!colorOf[n]) colorOf[n] = COLORS[i % COLORS.length]; });
    var box = $("cards");
    // keep an opened error open across the redraw
    var open = {};
    box.querySelectorAll("article").forEach(function (a) {
      var d = a.querySelector("details.last-error");
      if (d && d.open) open[a.dataset.provider] = d.dataset.time;
    });
    box.replaceChildren.apply(box, names.map(function (n) {
      var c = card(n, status.providers[n]);
      var d = c.querySelector("details.last-error");
      if (d && n in open && open[n] === d.dataset.time) d.open = true;
      return c;
    }));
    box.querySelectorAll("details.last-error .line").forEach(fitOneLine);
  }

  function colour(n) { return n === "failed" ? FAILED_COLOR : (colorOf[n] || "#888"); }

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
      li.appendChild(el("time", "muted", when(a.ts, true)));
      li.appendChild(el("span", "badge", words(a.kind)));
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

  // The gateway's time; "simulated time" with the offset when it is far from this computer's.
  function renderClock(serverTs, elapsed) {
    var node = $("clock");
    var skew = serverTs - Date.now() / 1000 + (elapsed || 0);
    var simulated = Math.abs(skew) > SKEW_S;
    var d = new Date((serverTs + (simulated ? 0 : elapsed || 0)) * 1000);
    var text = hhmm(d) + ":" + pad(d.getSeconds());
    if (simulated) {
      text = "simulated time " + MONTHS[d.getMonth()] + " " + d.getDate() + " " + text + " (" +
        span(skew) + (skew > 0 ? " ahead of" : " behind") + " this computer)";
    } else {
      text = "time " + text;
    }
    node.textContent = text;
    node.dataset.simulated = simulated ? "1" : "0";
    node.dataset.time = serverTs;
    node.className = "clock" + (simulated ? " simulated" : "");
  }

  function renderSavings(sv) {
    $("savings").textContent = usd(sv.saved_usd);
    $("savings").dataset.usd = sv.saved_usd || 0;
    $("spent").textContent = usd(sv.spent_usd);
    $("spent").dataset.usd = sv.spent_usd || 0;
    var rows = (sv.by_model || []).map(function (m) {
      var tr = el("tr");
      tr.dataset.provider = m.provider;
      tr.dataset.model = m.model;
      tr.dataset.saved = m.saved_usd;
      tr.appendChild(el("td", "model", m.provider + "/" + m.model));
      tr.appendChild(el("td", "n", num(m.calls)));
      tr.appendChild(el("td", "n", compact(m.prompt_tokens + m.completion_tokens)));
      tr.appendChild(el("td", "n", m.priced
        ? "$" + m.price_in_per_mtok + " in · $" + m.price_out_per_mtok + " out" : "no list price"));
      tr.appendChild(el("td", "n", usd(m.saved_usd)));
      return tr;
    });
    var body = $("savings-models").tBodies[0];
    if (!rows.length) {
      var empty = el("tr");
      var td = el("td", "muted", "no free calls today");
      td.colSpan = 5;
      empty.appendChild(td);
      rows = [empty];
    }
    body.replaceChildren.apply(body, rows);
    $("savings-note").textContent = "each free call priced at its own model's list price " +
      "(a model without one counts nothing); " + (sv.money_day || "utc").toUpperCase() + " day " +
      (sv.day || "");
  }

  function render(data) {
    var s = data.status;
    $("current").textContent = s.current_provider || "none";
    $("strategy").textContent = s.strategy || "";
    renderState(s.state);
    renderClock(s.time, 0);
    renderCards(s);
    renderAlerts(s.alerts);
    L.renderLive(data.history, colour);
    renderSavings(data.savings || {});
    document.body.dataset.ready = "1";
  }

  function tick() {
    // Count cooldowns down between polls so the page moves every second.
    if (!lastData) return;
    var elapsed = (Date.now() - lastPoll) / 1000;
    var nodes = document.querySelectorAll(".cooldown");
    for (var i = 0; i < nodes.length; i++) {
      var left = Number(nodes[i].dataset.remaining) - elapsed;
      nodes[i].textContent = " · " + clockText(left) + " left";
    }
    renderClock(lastData.status.time, elapsed);
    $("updated").textContent = "updated " + Math.round(elapsed) + " s ago";
  }

  function headers() {
    var key = sessionStorage.getItem("llmswitch-key");
    return key ? { Authorization: "Bearer " + key } : {};
  }

  function get(path) {
    return fetch(path, { headers: headers(), cache: "no-store" }).then(function (r) {
      if (r.status === 401) { $("auth").hidden = false; throw new Error("auth"); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function poll() {
    get("/api/dashboard")
      .then(function (data) {
        $("auth").hidden = true;
        lastData = data;
        lastPoll = Date.now();
        render(data);
        $("updated").textContent = "live";
        if (!chartsStarted) { chartsStarted = true; pollCharts(); } // colours come from the cards
      })
      .catch(function (e) {
        if (e.message !== "auth") $("updated").textContent = "gateway unreachable (" + e.message + ")";
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  function pollCharts() {
    get("/api/dashboard/charts")
      .then(function (data) { lastCharts = data; L.renderCharts(data, range, colour); })
      .catch(function () { /* the card poll reports the gateway's state */ })
      .then(function () { setTimeout(pollCharts, CHARTS_MS); });
  }

  document.querySelectorAll("#charts .ranges button").forEach(function (b) {
    b.addEventListener("click", function () {
      range = b.dataset.range;
      if (lastCharts) L.renderCharts(lastCharts, range, colour);
    });
  });
  $("auth-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    sessionStorage.setItem("llmswitch-key", $("auth-key").value);
    $("auth-key").value = "";
    $("auth").hidden = true;
  });
  setInterval(tick, 1000);
  poll();
})();
