// nkt-motion live dashboard: plain JavaScript, no build step, no outside requests.
// Snapshots arrive over a WebSocket; the newest one is drawn on the next animation
// frame, and each panel touches the DOM only when its own data changed.
(() => {
  "use strict";

  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const QUALITY_COLOUR = { ok: "#1a8f47", warn: "#d99a00", bad: "#d0312d" };
  const TRIAL_GUARD_MS = 400;
  const STALE_MS = 2000;
  const METRICS_MAX = 20000;

  const live = {
    ws: null, retry: 0, latest: null, drawn: null, pending: false, lastMessage: 0,
    muscles: {}, commandId: 0, lastTrialPress: 0, stopArmed: 0,
  };
  const cache = new Map();
  const commandButtons = document.querySelectorAll("button[data-command]");
  const metrics = { frames: [], long: [] };

  // ---- small helpers --------------------------------------------------------
  function changed(key, signature) {
    if (cache.get(key) === signature) return false;
    cache.set(key, signature);
    return true;
  }
  function setText(el, text) {
    if (el.nkText !== text) { el.textContent = text; el.nkText = text; }
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function num(x, digits) { return x === null || x === undefined ? "–" : x.toFixed(digits); }
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
  function muscle(code) { return live.muscles[code] || code || ""; }
  function fitCanvas(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    canvas.nkRatio = ratio;
  }

  // ---- connection -------------------------------------------------------------
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`);
    live.ws = ws;
    ws.onopen = () => { live.retry = 0; live.lastMessage = Date.now(); setOnline(true); };
    ws.onmessage = (event) => onMessage(event.data);
    ws.onclose = () => {
      if (live.ws !== ws) return;
      live.ws = null;
      setOnline(false);
      const delay = Math.min(5000, 250 * 2 ** live.retry) * (0.75 + Math.random() / 2);
      live.retry += 1;
      banner("Connection lost – reconnecting…");
      setTimeout(connect, delay);
    };
  }
  function setOnline(online) {
    document.body.classList.toggle("offline", !online);
    if (online) banner("");
    if (live.drawn) renderControls(live.drawn);
  }
  function banner(text) {
    const node = $("banner");
    setText(node, text);
    node.hidden = !text;
  }
  function onMessage(data) {
    let msg;
    try { msg = JSON.parse(data); } catch (err) { return; }
    live.lastMessage = Date.now();
    if (msg.type === "snapshot") {
      live.latest = msg;
      if (!live.pending) { live.pending = true; requestAnimationFrame(frame); }
    } else if (msg.type === "hello") {
      live.muscles = msg.muscles || {};
    } else if (msg.type === "ack") {
      notice(`${msg.name.replace("_", " ")}: done`, "ok");
    } else if (msg.type === "error") {
      notice(msg.message || "refused", "error");
    }
  }
  function send(name) {
    const ws = live.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) { notice("Not connected", "error"); return; }
    live.commandId += 1;
    ws.send(JSON.stringify({ type: "command", name, id: live.commandId }));
  }
  let noticeTimer = 0;
  function notice(text, kind) {
    const node = $("notice");
    setText(node, text);
    node.className = `notice ${kind}`;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => setText(node, ""), 4000);
  }
  function watchStale() {
    if (live.ws && live.ws.readyState === WebSocket.OPEN) {
      const quiet = Date.now() - live.lastMessage;
      banner(quiet > STALE_MS ? `No live data for ${Math.round(quiet / 1000)} s` : "");
    }
  }

  // ---- drawing ------------------------------------------------------------------
  function frame() {
    live.pending = false;
    const snap = live.latest;
    if (!snap || snap === live.drawn) return;
    const start = performance.now();
    render(snap);
    const end = performance.now();
    live.drawn = snap;
    if (metrics.frames.length < METRICS_MAX) {
      const drawnAt = performance.timeOrigin + end;  // ms since the epoch, as the server's clock
      const lag = snap.server_time ? drawnAt - snap.server_time * 1000 : null;
      metrics.frames.push({ seq: snap.seq, script_ms: end - start, lag_ms: lag, drawn_at: drawnAt });
    }
  }
  function render(snap) {
    renderHeader(snap);
    renderStep(snap.step, snap.steps || [], snap.trial);
    renderControls(snap);
    renderChannels(snap.channels || []);
    renderRatios(snap.protocol ? snap.protocol.tested : "", snap.ratios || []);
    renderOnsets(snap.onsets);
    renderAngles(snap.angles || []);
    renderSensors(snap.sensors || []);
    renderEvents(snap.events || []);
    renderVerdict(snap.verdict, snap.paths);
    renderMessages(snap.messages || []);
  }
  function renderHeader(snap) {
    const p = snap.protocol || {};
    setText($("protocol-title"), p.title || p.name || "Live session");
    setText($("protocol-side"), p.side === "L" ? "left side" : p.side === "R" ? "right side" : "");
    const state = $("state");
    setText(state, snap.state);
    if (changed("state", snap.state)) state.className = `state ${snap.state}`;
    setText($("clock"), clock(snap.t));
    setText($("seq"), `#${snap.seq}`);
  }
  function renderStep(step, steps, trial) {
    if (!step) return;
    setText($("step-count"), `Step ${step.index + 1} of ${step.count}`);
    const trials = step.n_trials === null ? (step.trials_done ? `${step.trials_done} trials` : "")
      : `Trials ${step.trials_done} of ${step.n_trials}`;
    setText($("step-trials"), trials);
    setText($("step-title"), step.title);
    setText($("step-instruction"), step.instruction);
    const blocked = $("step-blocked");
    setText(blocked, step.blocked_reason || "");
    blocked.hidden = !step.blocked_reason;
    if (changed("steps", JSON.stringify(steps))) {
      const list = $("steps");
      list.replaceChildren(...steps.map((s) => {
        const item = el("li", s.status, s.title);
        if (s.status === "current") item.setAttribute("aria-current", "step");
        return item;
      }));
    }
    const info = trial && trial.active
      ? `Recording ${trial.label || "trial"} · ${num(trial.elapsed_s, 1)} s` : "";
    setText($("trial-info"), info);
  }
  function renderControls(snap) {
    const online = !!live.ws && live.ws.readyState === WebSocket.OPEN;
    const running = online && snap.state === "running";
    const step = snap.step || {};
    const active = !!(snap.trial && snap.trial.active);
    const button = $("trial");
    setText(button, active ? "Stop trial" : "Start trial");
    button.classList.toggle("active", active);
    const off = !(running && (active || step.can_mark));
    if (button.disabled !== off) button.disabled = off;
    const full = step.n_trials !== null && step.trials_done >= step.n_trials;
    const allowed = {
      next: running && !active,
      skip: running && !active,
      repeat: running && !active && step.trials_done > 0,
      override: running && !!step.blocked_reason && !full,  // a quality block, not a full step
      stop: online && ["connecting", "running", "finishing"].includes(snap.state),
    };
    for (const b of commandButtons) {
      const off = !allowed[b.dataset.command];
      if (b.disabled !== off) b.disabled = off;
    }
  }

  function renderChannels(channels) {
    const box = $("channels");
    if (changed("channel-rows", channels.map((c) => c.label).join("|"))) {
      box.replaceChildren(...channels.map((c) => channelRow(c)));
      for (const row of box.children) fitCanvas(row.nk.bar);
    }
    channels.forEach((c, i) => updateChannel(box.children[i], c));
  }
  function channelRow(c) {
    const row = el("div", "chan");
    row.dataset.label = c.label;
    const name = el("div", "chan-name");
    name.append(el("b", "", c.label.replace(/^EMG /, "")), el("small", "", muscle(c.muscle)));
    const bar = el("canvas", "bar");
    const value = el("div", "chan-value", "–");
    const quality = el("div", "chan-quality");
    quality.append(el("span", "light"), el("span", "reason"));
    row.append(name, bar, value, quality);
    row.nk = { bar, value, light: quality.firstChild, reason: quality.lastChild, peak: 0, scale: 1 };
    return row;
  }
  function updateChannel(row, c) {
    const nk = row.nk;
    const level = c.level === null ? 0 : c.level;
    nk.peak = Math.max(level, nk.peak * 0.97);
    nk.scale = c.normalised ? Math.max(1, nk.scale * 0.999, level)
      : Math.max(level, nk.scale * 0.995, 1e-9);
    setText(nk.value, c.level === null ? "–"
      : c.normalised ? `${Math.round(c.level * 100)} % ref` : c.level.toPrecision(3));
    if (nk.quality !== c.quality) {
      nk.quality = c.quality;
      nk.light.className = `light ${c.quality}`;
      row.classList.toggle("bad", c.quality === "bad");
    }
    setText(nk.reason, c.reason || (c.quality === "ok" ? "good signal" : c.quality));
    drawBar(nk, level, c.normalised, c.quality);
  }
  function drawBar(nk, level, normalised, quality) {
    const canvas = nk.bar;
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#e4e8ee";
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = quality === "bad" ? "#9aa3ad" : "#1f6fd1";
    ctx.fillRect(0, 0, Math.min(1, level / nk.scale) * w, h);
    ctx.fillStyle = "#0b2f5c";
    ctx.fillRect(Math.min(1, nk.peak / nk.scale) * w - 2, 0, 3, h);
    if (normalised) {
      ctx.fillStyle = "#333";
      ctx.fillRect(Math.min(1, 1 / nk.scale) * w - 1, 0, 2, h);
    }
  }

  function renderRatios(tested, ratios) {
    const box = $("ratios");
    if (changed("ratio-rows", `${tested}:${ratios.map((r) => r.partner).join("|")}`)) {
      box.replaceChildren(...ratios.map((r) => ratioBlock(tested, r)));
      ratios.forEach((r, i) => { fitCanvas(box.children[i].nk.canvas); cache.delete(`ratio-${i}`); });
    }
    ratios.forEach((r, i) => {
      const nk = box.children[i].nk;
      setText(nk.current, num(r.current, 2));
      setText(nk.previous, `previous ${num(r.previous, 2)}`);
      setText(nk.counts, `before ${r.pre.length} · after ${r.post.length} trials`);
      if (changed(`ratio-${i}`, JSON.stringify([r.current, r.pre, r.post]))) drawDots(nk.canvas, r);
    });
  }
  function ratioBlock(tested, r) {
    const block = el("div", "ratio");
    block.append(el("div", "ratio-name", `${muscle(tested)} : ${muscle(r.partner)}`));
    const line = el("div", "ratio-line");
    const current = el("span", "ratio-current", "–");
    const previous = el("span", "ratio-previous", "");
    line.append(current, previous);
    const canvas = el("canvas", "dots");
    const counts = el("div", "small", "");
    block.append(line, canvas, counts);
    block.nk = { current, previous, canvas, counts };
    return block;
  }
  function drawDots(canvas, r) {
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    const k = canvas.nkRatio || 1;
    const values = [...r.pre, ...r.post, r.current, 1].filter((v) => v !== null);
    const low = Math.min(...values) * 0.85;
    const span = Math.max(...values) * 1.1 - low;
    const left = 48 * k;
    const x = (v) => left + ((v - low) / span) * (w - left - 8 * k);
    ctx.clearRect(0, 0, w, h);
    ctx.font = `${11 * k}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#c5ccd6";
    ctx.fillRect(x(1) - k / 2, 0, k, h - 12 * k);
    ctx.fillStyle = "#5b6570";
    ctx.fillText("1.0", x(1) - 8 * k, h - 5 * k);
    const rows = [["before", r.pre, "#7a4fc9", h * 0.22], ["after", r.post, "#1a8f47", h * 0.58]];
    for (const [name, list, colour, y] of rows) {
      ctx.fillStyle = "#5b6570";
      ctx.fillText(name, 0, y);
      ctx.fillStyle = colour;
      for (const v of list) {
        if (v === null) continue;
        ctx.beginPath();
        ctx.arc(x(v), y, 5 * k, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    if (r.current !== null) {
      ctx.fillStyle = "#1f6fd1";
      ctx.fillRect(x(r.current) - 1.5 * k, 0, 3 * k, h - 12 * k);
    }
  }

  function renderOnsets(onsets) {
    if (!changed("onsets", JSON.stringify(onsets))) return;
    const canvas = $("onset-canvas");
    if (!canvas.nkRatio) fitCanvas(canvas);  // then only on resize: reading sizes forces layout
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!onsets || !onsets.order.length) { setText($("onset-text"), "No trial yet."); return; }
    const d = onsets.delays_ms;
    const parts = onsets.order.map((m, i) => (i === 0 ? `${m} first` : `${m} +${num(d[m], 0)} ms`));
    setText($("onset-text"), `${onsets.label}: ${parts.join(", ")}`);
    const k = canvas.nkRatio || 1;
    const w = canvas.width;
    const h = canvas.height;
    const span = Math.max(100, ...onsets.order.map((m) => d[m] || 0)) * 1.1;
    const x = (ms) => 10 * k + (ms / span) * (w - 60 * k);
    ctx.fillStyle = "#c5ccd6";
    ctx.fillRect(x(0), h - 14 * k, w - 60 * k, k);
    ctx.font = `${11 * k}px system-ui, sans-serif`;
    ctx.fillStyle = "#5b6570";
    ctx.fillText("0 ms", x(0), h - 2 * k);
    ctx.fillText(`${Math.round(span / 1.1)} ms`, x(span / 1.1) - 20 * k, h - 2 * k);
    ctx.font = `${14 * k}px system-ui, sans-serif`;
    onsets.order.forEach((m, i) => {
      const y = ((i + 0.6) / (onsets.order.length + 0.4)) * (h - 22 * k);
      ctx.fillStyle = i === 0 ? "#d99a00" : "#1f6fd1";
      ctx.fillRect(x(d[m] || 0), y - 5 * k, 10 * k, 10 * k);
      ctx.fillStyle = "#1b1f24";
      ctx.fillText(m, x(d[m] || 0) + 14 * k, y + 5 * k);
    });
  }
  // Rows keyed by `key`: built when the keys change, otherwise only their cells' text is set.
  function syncRows(box, cacheKey, items, key, cells, tag) {
    if (changed(cacheKey, items.map(key).join("|"))) {
      box.replaceChildren(...items.map(() => {
        const row = el(tag === "tr" ? "tr" : "li");
        row.nk = cells.map(() => row.appendChild(el(tag === "tr" ? "td" : "span")));
        return row;
      }));
    }
    items.forEach((item, i) => {
      const row = box.children[i];
      cells.forEach((cell, j) => {
        const [text, cls] = cell(item);
        setText(row.nk[j], text);
        if (row.nk[j].className !== cls) row.nk[j].className = cls;
      });
    });
  }
  const ANGLE_CELLS = [
    (a) => [a.name.replace(/_/g, " "), ""],
    (a) => [`${num(a.value, 1)}${a.unit === "deg" ? "°" : ` ${a.unit}`}`, "value"],
  ];
  function renderAngles(angles) {
    syncRows($("angles"), "angle-rows", angles, (a) => a.name, ANGLE_CELLS, "li");
  }
  function lostShare(s) { return s.packets + s.lost > 0 ? (100 * s.lost) / (s.packets + s.lost) : 0; }
  const SENSOR_CELLS = [
    (s) => [s.id, ""],
    (s) => [s.state, `sensor-${s.state}`],
    (s) => [String(s.packets), ""],
    (s) => [`${s.lost}${lostShare(s) >= 0.1 ? ` (${num(lostShare(s), 1)} %)` : ""}`,
      lostShare(s) >= 1 ? "lossy" : ""],
    (s) => [s.drift_ppm === null ? "–" : `${num(s.drift_ppm, 0)} ppm`, ""],
  ];
  function renderSensors(sensors) {
    syncRows($("sensors"), "sensor-rows", sensors, (s) => s.id, SENSOR_CELLS, "tr");
  }
  function renderEvents(events) {
    const last = events.length ? events[events.length - 1] : null;
    if (!changed("events", `${events.length}:${JSON.stringify(last)}`)) return;
    setText($("event-count"), `(${events.length})`);
    $("events").replaceChildren(...events.slice(-8).reverse().map((e) => {
      const item = el("li");
      item.append(el("span", "time", clock(e.onset)), el("b", "", e.label),
        el("span", "small", `${num(e.duration, 1)} s`));
      return item;
    }));
  }
  function renderVerdict(verdict, paths) {
    if (!changed("verdict", JSON.stringify([verdict, paths]))) return;
    const card = $("verdict");
    card.hidden = !verdict && !paths;
    const tests = verdict ? verdict.tests : [];
    $("verdict-tests").replaceChildren(...tests.map((t) => {
      const box = el("div", `verdict-test ${t.verdict}`);
      box.append(el("div", "verdict-head", `${muscle(t.tested)} vs ${muscle(t.partner)}: ${t.verdict}`),
        el("p", "", t.reason),
        el("p", "small", `before ${estimate(t.pre)} → after ${estimate(t.post)}; `
          + `change ×${num(t.change, 2)} [${num(t.change_ci[0], 2)}–${num(t.change_ci[1], 2)}]`));
      return box;
    }));
    const files = $("verdict-files");
    files.replaceChildren();
    for (const kind of ["report", "pdf"]) {
      if (paths && paths[kind]) {
        const link = el("a", "button-link", kind === "pdf" ? "Open PDF" : "Open report");
        link.href = `/files/${kind}?token=${encodeURIComponent(token)}`;
        link.target = "_blank";
        link.rel = "noreferrer";
        files.append(link);
      }
    }
    if (paths && paths.bids) files.append(el("span", "small", `Session saved to ${paths.bids}`));
  }
  function estimate(e) { return `${num(e.ratio, 2)} [${num(e.ci[0], 2)}–${num(e.ci[1], 2)}]`; }
  function renderMessages(messages) {
    if (!changed("messages", JSON.stringify(messages))) return;
    $("messages").replaceChildren(...messages.slice(-3).map((m) => el("li", "", m)));
  }

  // ---- input ------------------------------------------------------------------------
  function pressTrial() {
    const now = Date.now();
    if (now - live.lastTrialPress < TRIAL_GUARD_MS) return;
    live.lastTrialPress = now;
    send("trial_toggle");
  }
  function pressCommand(button) {
    const name = button.dataset.command;
    if (name === "stop" && Date.now() - live.stopArmed > 3000) {
      live.stopArmed = Date.now();
      notice("Tap Stop again to end the session", "warn");
      return;
    }
    live.stopArmed = 0;
    send(name);
  }
  function start() {
    $("trial").addEventListener("click", pressTrial);
    for (const b of document.querySelectorAll("button[data-command]")) {
      b.addEventListener("click", () => pressCommand(b));
    }
    document.addEventListener("keydown", (event) => {
      if (event.code === "Space" && event.target === document.body && !$("trial").disabled) {
        event.preventDefault();
        pressTrial();
      }
    });
    window.addEventListener("resize", () => {
      cache.clear();
      for (const c of document.querySelectorAll("canvas")) fitCanvas(c);
      if (live.drawn) { live.drawn = null; live.pending = true; requestAnimationFrame(frame); }
    });
    // Main-thread tasks and animation frames over 50 ms (script, style, layout and paint).
    const supported = "PerformanceObserver" in window ? PerformanceObserver.supportedEntryTypes : [];
    for (const type of ["longtask", "long-animation-frame"]) {
      if (!supported.includes(type)) continue;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          if (metrics.long.length < METRICS_MAX) metrics.long.push({ type, ms: e.duration });
        }
      }).observe({ type });
    }
    setInterval(watchStale, 1000);
    connect();
  }

  // Frame timings for diagnosis: script time per drawn frame and server-to-screen lag.
  window.nktDashboard = {
    drain() {
      const out = { frames: metrics.frames, long: metrics.long };
      metrics.frames = [];
      metrics.long = [];
      return out;
    },
  };
  start();
})();
