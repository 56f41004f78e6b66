// The Gateway dashboard: one page, five views, plain DOM and SVG, refreshed by polling the AppHost's JSON API.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const palette = ["#3b82f6", "#22c55e", "#f59e0b", "#ef4444", "#a855f7", "#14b8a6", "#ec4899", "#eab308", "#64748b", "#f97316"];
const colors = new Map();
const colorOf = name => colors.get(name) ?? colors.set(name, palette[colors.size % palette.length]).get(name);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail ?? `${response.status} ${response.statusText}`);
  }
  return response.status === 204 || response.status === 202 ? null : response.json();
}

const format = {
  time: ms => new Date(ms).toLocaleTimeString(undefined, { hour12: false }) + "." + String(Math.floor(ms % 1000)).padStart(3, "0"),
  duration: ms => ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`,
  bytes: b => b == null ? "–" : b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(2)} GiB` : `${(b / (1 << 20)).toFixed(0)} MiB`,
  uptime: s => s == null ? "–" : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor(s % 3600 / 60)} min`,
};

// ---- Resources -------------------------------------------------------------------------------------------------------

const resources = {
  async refresh() {
    const rows = await api("/api/resources");
    $("#resources tbody").replaceChildren(...rows.map(r => el("tr", { "data-resource": r.name },
      el("td", {}, el("strong", {}, r.name)),
      el("td", { class: "muted" }, r.kind),
      el("td", {}, el("span", { class: `badge ${r.state}`, "data-testid": "state" }, r.state)),
      el("td", {}, r.health ? el("span", { class: `badge ${r.health}`, "data-testid": "health" }, r.health) : "–"),
      el("td", {}, r.links.length ? r.links.map(url => el("div", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, url))) : el("span", { class: "mono muted" }, r.endpoint)),
      el("td", { class: "mono" }, r.pid ?? "–"),
      el("td", {}, r.restarts),
      el("td", {}, format.uptime(r.uptimeSeconds)),
      el("td", {}, r.cpuPercent == null ? "–" : `${r.cpuPercent.toFixed(1)} %`),
      el("td", {}, format.bytes(r.memoryBytes)),
      el("td", {}, r.kind === "database" ? "" : ["restart", "stop", "start"].map(command => el("button", {
        "data-command": command,
        disabled: command === "start" ? !["Stopped", "Failed"].includes(r.state) : ["Stopped", "Failed", "Waiting"].includes(r.state),
        onclick: event => resources.command(r.name, command, event.target),
      }, command[0].toUpperCase() + command.slice(1)))),
    )));
  },
  async command(name, command, button) {
    button.disabled = true;
    button.textContent = "…";
    try { await api(`/api/resources/${encodeURIComponent(name)}/${command}`, { method: "POST" }); }
    catch (error) { alert(error.message); }
    await resources.refresh();
  },
};

// ---- Console logs ----------------------------------------------------------------------------------------------------

const consoleView = {
  resource: null, after: 0, lines: [],
  async enter() {
    const names = (await api("/api/resources")).filter(r => r.kind !== "database").map(r => r.name);
    const select = $("#console-resource");
    if (!select.options.length) {
      select.append(...names.map(n => el("option", { value: n }, n)));
      select.onchange = () => { consoleView.resource = select.value; consoleView.after = 0; consoleView.lines = []; consoleView.refresh(); };
      $("#console-search").oninput = () => consoleView.render();
      const wanted = new URLSearchParams(location.hash.split("?")[1]).get("resource");
      if (wanted && names.includes(wanted)) select.value = wanted;
    }
    if (consoleView.resource !== select.value) { consoleView.resource = select.value; consoleView.after = 0; consoleView.lines = []; }
  },
  async refresh() {
    const name = consoleView.resource;
    if (!name) return;
    const fresh = await api(`/api/resources/${encodeURIComponent(name)}/logs?after=${consoleView.after}`);
    if (name !== consoleView.resource || !fresh.length) return;
    consoleView.after = fresh[fresh.length - 1].sequence;
    consoleView.lines.push(...fresh);
    if (consoleView.lines.length > 2000) consoleView.lines.splice(0, consoleView.lines.length - 2000);
    consoleView.render();
  },
  render() {
    const term = $("#console-search").value.toLowerCase();
    const pane = $("#console-lines");
    const shown = term ? consoleView.lines.filter(l => l.text.toLowerCase().includes(term)) : consoleView.lines;
    pane.replaceChildren(...shown.map(l => el("div", { class: l.kind },
      el("span", { class: "muted" }, format.time(Date.parse(l.time)) + "  "), highlight(l.text, term))));
    if ($("#console-follow").checked) pane.scrollTop = pane.scrollHeight;
  },
};

function highlight(text, term) {
  if (!term) return text;
  const at = text.toLowerCase().indexOf(term);
  return at < 0 ? text : [text.slice(0, at), el("mark", {}, text.slice(at, at + term.length)), text.slice(at + term.length)];
}

// ---- Structured logs -------------------------------------------------------------------------------------------------

async function fillServices(select) {
  const services = await api("/api/telemetry/services");
  const have = new Set([...select.options].map(o => o.value));
  select.append(...services.filter(s => !have.has(s)).map(s => el("option", { value: s }, s)));
}

const logs = {
  async enter() {
    await fillServices($("#logs-service"));
    for (const id of ["#logs-service", "#logs-level", "#logs-trace", "#logs-search"]) $(id).oninput = () => logs.refresh();
    const trace = new URLSearchParams(location.hash.split("?")[1]).get("traceId");
    if (trace) $("#logs-trace").value = trace;
  },
  async refresh() {
    const query = new URLSearchParams({ service: $("#logs-service").value, level: $("#logs-level").value, traceId: $("#logs-trace").value.trim(), q: $("#logs-search").value, limit: 300 });
    const entries = await api(`/api/telemetry/logs?${query}`);
    $("#logs tbody").replaceChildren(...(entries.length ? entries.map(e => el("tr", {},
      el("td", { class: "mono" }, format.time(e.time)),
      el("td", {}, e.service),
      el("td", {}, el("span", { class: `badge ${e.level}` }, e.level)),
      el("td", {}, e.message, el("div", { class: "muted mono" }, e.category ?? "")),
      el("td", { class: "mono" }, e.traceId ? el("a", { href: `#traces?traceId=${e.traceId}` }, e.traceId.slice(0, 8)) : ""),
    )) : [el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No log entries match."))]));
  },
};

// ---- Traces ----------------------------------------------------------------------------------------------------------

const traces = {
  expanded: new Set(), shown: "",
  async enter() {
    await fillServices($("#traces-service"));
    $("#traces-service").oninput = () => traces.refresh();
    if (!new URLSearchParams(location.hash.split("?")[1]).get("traceId")) { $("#trace-detail").hidden = true; traces.shown = ""; }
  },
  async refresh() {
    const open = new URLSearchParams(location.hash.split("?")[1]).get("traceId");
    if (open) await traces.show(open); // spans of a trace still in flight keep arriving
    const query = new URLSearchParams({ service: $("#traces-service").value, limit: 100 });
    const list = await api(`/api/telemetry/traces?${query}`);
    $("#traces tbody").replaceChildren(...(list.length ? list.map(t => el("tr", { class: "clickable", "data-trace": t.traceId, onclick: () => { location.hash = `traces?traceId=${t.traceId}`; } },
      el("td", { class: "mono" }, format.time(t.startTime)),
      el("td", {}, t.hasError ? el("span", { class: "badge error" }, "error") : null, " ", t.name),
      el("td", {}, t.services.map(s => el("span", { class: "badge", style: `background:${colorOf(s)}33;color:${colorOf(s)}` }, s)).flatMap(b => [b, " "])),
      el("td", {}, t.spanCount),
      el("td", {}, format.duration(t.durationMs)),
    )) : [el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No traces yet."))]));
  },
  async show(traceId) {
    const detail = $("#trace-detail");
    let trace;
    try { trace = await api(`/api/telemetry/traces/${encodeURIComponent(traceId)}`); }
    catch (error) { detail.hidden = false; detail.replaceChildren(el("div", { class: "waterfall empty" }, error.message)); return; }
    if (!detail.hidden && traces.shown === `${traceId}/${trace.spans.length}`) return;
    traces.shown = `${traceId}/${trace.spans.length}`;
    const start = Math.min(...trace.spans.map(s => s.startTime));
    const end = Math.max(...trace.spans.map(s => s.startTime + s.durationMs));
    const total = Math.max(end - start, 0.001);
    const children = new Map();
    const ids = new Set(trace.spans.map(s => s.spanId));
    for (const span of trace.spans) {
      const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : "";
      children.set(parent, [...(children.get(parent) ?? []), span]);
    }
    const rows = [];
    const walk = (parent, depth) => {
      for (const span of (children.get(parent) ?? []).sort((a, b) => a.startTime - b.startTime)) {
        rows.push(traces.spanRow(span, depth, start, total));
        walk(span.spanId, depth + 1);
      }
    };
    walk("", 0);
    const services = [...new Set(trace.spans.map(s => s.service))];
    detail.hidden = false;
    detail.replaceChildren(el("div", { class: "waterfall" },
      el("h2", {}, `Trace ${trace.traceId} · ${format.duration(total)} · ${trace.spans.length} spans · `,
        el("a", { href: `#logs?traceId=${trace.traceId}` }, "its logs"), " · ", el("a", { href: "#traces" }, "close")),
      el("div", { class: "legend", "data-testid": "trace-services" }, services.map(s => el("span", { "data-service": s }, el("i", { style: `background:${colorOf(s)}` }), s))),
      rows));
  },
  spanRow(span, depth, start, total) {
    const left = (span.startTime - start) / total * 100;
    const width = Math.max(span.durationMs / total * 100, 0.2);
    const attributes = el("div", { class: "span-attrs mono", hidden: !traces.expanded.has(span.spanId) },
      el("div", {}, `${span.service} · ${span.kind} · ${format.duration(span.durationMs)}${span.statusMessage ? " · " + span.statusMessage : ""}`),
      Object.entries(span.attributes ?? {}).map(([k, v]) => el("div", {}, el("span", { class: "muted" }, k + " = "), v)));
    return [
      el("div", { class: "span-row", "data-span-service": span.service, onclick: () => {
        attributes.hidden = !attributes.hidden;
        if (attributes.hidden) traces.expanded.delete(span.spanId); else traces.expanded.add(span.spanId);
      } },
        el("div", { class: "span-name", style: `padding-left:${depth * 14}px`, title: span.name },
          el("span", { style: `color:${colorOf(span.service)}` }, span.service), " ", span.name),
        el("div", { class: "span-track" }, el("div", {
          class: `span-bar ${span.status === "error" ? "error" : ""}`,
          style: `left:${left}%;width:${width}%;background:${colorOf(span.service)}`,
          title: format.duration(span.durationMs),
        }))),
      attributes,
    ];
  },
};

// ---- Metrics ---------------------------------------------------------------------------------------------------------

const short = v => v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toPrecision(3)}`;

// The axis's top as 2, 4, 6, 8 or 10 × a power of ten, so the top and middle labels are round (20 and 10 credits,
// not 19.8 and 9.9).
const niceCeiling = v => { const power = 10 ** Math.floor(Math.log10(v)); return [2, 4, 6, 8, 10].find(s => s * power >= v) * power; };

function lineChart(title, series, { unit = "", yMax, testid, from, to } = {}) {
  const width = 600, height = 180, pad = { left: 62, right: 8, top: 10, bottom: 22 };
  if (from !== undefined) series = series.map(s => ({ ...s, points: s.points.filter(p => p[0] >= from) }));
  const points = series.flatMap(s => s.points);
  const box = el("div", { class: "chart", "data-testid": testid });
  box.append(el("h2", {}, title));
  if (!points.length) { box.append(el("div", { class: "empty" }, "No data yet.")); return box; }
  const x0 = from ?? Math.min(...points.map(p => p[0])), x1 = to ?? Math.max(...points.map(p => p[0]), x0 + 1);
  const top = yMax ?? niceCeiling(Math.max(...points.map(p => p[1]), 0) * 1.1 || 1);
  const x = t => pad.left + (t - x0) / (x1 - x0) * (width - pad.left - pad.right);
  const y = v => height - pad.bottom - v / top * (height - pad.top - pad.bottom);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const label = (text, lx, ly, anchor = "end") => `<text x="${lx}" y="${ly}" fill="#9aa5b1" font-size="11" text-anchor="${anchor}">${text}</text>`;
  const grid = [0, 0.5, 1].map(f => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(top * f)}" y2="${y(top * f)}" stroke="#27313d"/>` +
    label(`${short(top * f)}${unit}`, pad.left - 4, y(top * f) + 4)).join("");
  const axis = label(new Date(x0).toLocaleTimeString(undefined, { hour12: false }), pad.left, height - 6, "start") +
    label(new Date(x1).toLocaleTimeString(undefined, { hour12: false }), width - pad.right, height - 6);
  const lines = series.filter(s => s.points.length).map(s => {
    const path = s.points.map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    const dots = s.points.length === 1 ? `<circle cx="${x(s.points[0][0])}" cy="${y(s.points[0][1])}" r="3" fill="${colorOf(s.name)}"/>` : "";
    return `<path d="${path}" fill="none" stroke="${colorOf(s.name)}" stroke-width="1.8"/>${dots}`;
  }).join("");
  svg.innerHTML = grid + axis + lines;
  box.append(svg, el("div", { class: "legend" }, series.map(s => el("span", {}, el("i", { style: `background:${colorOf(s.name)}` }), s.name))));
  return box;
}

function barChart(title, bars, { testid } = {}) {
  const box = el("div", { class: "chart", "data-testid": testid }, el("h2", {}, title));
  if (!bars.length) { box.append(el("div", { class: "empty" }, "No data yet.")); return box; }
  const max = Math.max(...bars.map(b => b.value), 1);
  box.append(el("table", { class: "grid" }, bars.map(b => el("tr", {},
    el("td", { class: "mono", style: "width:45%" }, b.name),
    el("td", {}, el("div", { style: `background:${colorOf(b.name)};height:10px;border-radius:3px;width:${b.value / max * 100}%` })),
    el("td", { style: "width:4rem" }, b.value)))));
  return box;
}

const metrics = {
  async enter() { $("#metrics-minutes").oninput = () => metrics.refresh(); },
  async refresh() {
    const minutes = $("#metrics-minutes").value;
    const [requests, credits, queues] = await Promise.all([
      api(`/api/telemetry/metrics/requests?minutes=${minutes}`),
      api(`/api/telemetry/metrics/credits?minutes=${minutes}`),
      api("/api/queues"),
    ]);
    const window = { to: Date.now(), from: Date.now() - minutes * 60_000 };
    const perService = field => Object.entries(requests.services).map(([name, points]) => ({ name, points: points.map(p => [p.time, p[field] ?? 0]) }));
    const queueNames = [...new Set(queues.history.flatMap(s => Object.keys(s.depths)))];
    $(".charts").replaceChildren(
      lineChart("Requests per second", perService("requestsPerSecond"), { unit: "/s", testid: "chart-rps", ...window }),
      lineChart("Error rate (5xx)", perService("errorRate").map(s => ({ ...s, points: s.points.map(([t, v]) => [t, v * 100]) })), { unit: "%", testid: "chart-errors", ...window }),
      lineChart("Latency p50", perService("p50Ms"), { unit: " ms", testid: "chart-p50", ...window }),
      lineChart("Latency p99", perService("p99Ms"), { unit: " ms", testid: "chart-p99", ...window }),
      lineChart("Credits per minute", [
        { name: "reserved", points: credits.map(c => [c.time, c.reserved]) },
        { name: "captured", points: credits.map(c => [c.time, c.captured]) },
      ], { testid: "chart-credits", ...window }),
      lineChart("RabbitMQ queue depths", queueNames.length
        ? queueNames.map(name => ({ name, points: queues.history.map(s => [s.time, s.depths[name] ?? 0]) }))
        : [{ name: "all queues", points: queues.history.map(s => [s.time, 0]) }], { testid: "chart-queues", ...window }),
      barChart("Messages waiting now, by queue", queues.current.filter(q => q.ready + q.unacknowledged > 0).map(q => ({ name: q.name, value: q.ready + q.unacknowledged })), { testid: "queues-now" }),
    );
  },
};

// ---- Navigation ------------------------------------------------------------------------------------------------------

const pages = { resources, console: consoleView, logs, traces, metrics };
const refreshEvery = { resources: 2000, console: 1000, logs: 3000, traces: 3000, metrics: 5000 };
let timer = null;

async function navigate() {
  const name = (location.hash.slice(1).split("?")[0]) || "resources";
  const page = pages[name] ?? resources;
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== name;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === name);
  clearInterval(timer);
  try {
    await page.enter?.();
    await page.refresh();
  } catch (error) { console.warn(error); }
  timer = setInterval(() => page.refresh().catch(error => console.warn(error)), refreshEvery[name] ?? 3000);
}

window.addEventListener("hashchange", navigate);
navigate();
