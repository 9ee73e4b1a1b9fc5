// The smsgate sandbox inbox: lists what the simulator received, live over server-sent events.
// Message texts come from whoever sends to the sandbox: they only ever reach the page through
// textContent / createTextNode, never as HTML.
"use strict";

(() => {
  const LIMIT = 500;
  const byId = (id) => document.getElementById(id);
  const view = {
    messages: [], // newest first, as the filters select them
    kept: 0,
    dropped: 0,
    capacity: 0,
    selected: null,
    fresh: new Set(),
    loading: 0,
    // Events that arrive while a list is being fetched, replayed over its result (which may
    // have been read before they happened).
    pending: null,
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function filters() {
    return {
      to: byId("filter-to").value.trim(),
      vendor: byId("filter-vendor").value,
      text: byId("filter-text").value,
    };
  }

  // The same rules as the server's MessageFilter.
  function matches(message, f) {
    if (f.vendor && message.vendor !== f.vendor) return false;
    if (f.to) {
      const wanted = f.to.replace(/\D/g, "");
      const ok = wanted
        ? message.to.replace(/\D/g, "").includes(wanted)
        : message.to.toLowerCase().includes(f.to.toLowerCase());
      if (!ok) return false;
    }
    if (f.text && !message.text.toLowerCase().includes(f.text.toLowerCase())) return false;
    return true;
  }

  // The text exactly, in a pre-wrap span; leading and trailing whitespace highlighted.
  function textNode(text) {
    const span = el("span", "text-body");
    if (text === "") {
      span.append(el("span", "none", "(empty)"));
      return span;
    }
    const lead = text.match(/^\s*/)[0];
    const rest = text.slice(lead.length);
    const trail = rest.match(/\s*$/)[0];
    const middle = rest.slice(0, rest.length - trail.length);
    if (lead) span.append(whitespace(lead, "leading"));
    if (middle) span.append(document.createTextNode(middle));
    if (trail) span.append(whitespace(trail, "trailing"));
    return span;
  }

  function whitespace(text, where) {
    const mark = el("span", "ws", text);
    mark.title = `${text.length} ${where} whitespace character(s)`;
    return mark;
  }

  const FAULTS = {
    rejected: "rejected (per number)",
    http_500: "HTTP 500",
    connection_dropped: "connection dropped",
    malformed_answer: "malformed answer",
  };

  function encoding(message) {
    const name = message.encoding === "gsm7" ? "GSM-7" : "UCS-2";
    return `${name} · ${message.parts} part${message.parts === 1 ? "" : "s"}`;
  }

  function reportCell(message) {
    const cell = el("td", "report");
    const report = message.report;
    if (!report.outcome) {
      cell.append(el("span", "muted", "—"));
      return cell;
    }
    cell.append(el("span", `report-${report.outcome}`, report.outcome));
    let push;
    switch (report.push) {
      case "not_pushed": push = el("span", "muted", "not pushed"); break;
      case "pending": push = el("span", "muted", `pushing ${report.pushes_delivered}/${report.pushes}`); break;
      case "pushed": push = el("span", "", `pushed ${report.pushes_delivered}/${report.pushes}`); break;
      default: push = el("span", "push-failed", `push dropped ${report.pushes_dropped}/${report.pushes}`);
    }
    cell.append(document.createTextNode(" · "), push);
    return cell;
  }

  function row(message) {
    const tr = el("tr");
    tr.dataset.id = String(message.id);
    if (view.selected === message.id) tr.classList.add("selected");
    if (view.fresh.has(message.id)) tr.classList.add("fresh");
    const time = el("td", "time", new Date(message.received_at_ms).toLocaleTimeString());
    time.title = message.received_at;
    const to = el("td", "to", message.to_formatted);
    to.title = message.to;
    const text = el("td", "text");
    text.append(textNode(message.text));
    const fault = el("td", message.fault ? "fault-cell fault" : "fault-cell muted", message.fault ? FAULTS[message.fault] || message.fault : "—");
    tr.append(
      time,
      el("td", "vendor", message.vendor),
      to,
      el("td", message.from ? "from" : "from muted", message.from ?? "—"),
      text,
      el("td", "encoding", encoding(message)),
      el("td", "mono vendor-id", message.vendor_message_id ?? "—"),
      fault,
      reportCell(message),
    );
    tr.tabIndex = 0;
    tr.addEventListener("click", () => open(message.id));
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        open(message.id);
      }
    });
    return tr;
  }

  let renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      const rows = byId("rows");
      rows.replaceChildren(...view.messages.map(row));
      view.fresh.clear();
      byId("empty").hidden = view.messages.length > 0;
      byId("kept").textContent = String(view.kept);
      byId("capacity").textContent = String(view.capacity);
      byId("dropped").textContent = String(view.dropped);
      const f = filters();
      const filtered = f.to || f.vendor || f.text;
      byId("shown").textContent = filtered ? `${view.messages.length} shown` : "";
    });
  }

  async function load() {
    const ticket = ++view.loading;
    view.pending = [];
    const f = filters();
    const query = new URLSearchParams({ limit: String(LIMIT) });
    for (const [name, value] of Object.entries(f)) if (value) query.set(name, value);
    try {
      const answer = await fetch(`/_sandbox/messages?${query}`, { cache: "no-store" });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const list = await answer.json();
      if (ticket !== view.loading) return; // a newer load is under way
      view.messages = list.messages;
      view.kept = list.kept;
      view.dropped = list.dropped;
      view.capacity = list.capacity;
      const pending = view.pending || [];
      view.pending = null;
      for (const [message, isNew] of pending) upsert(message, isNew);
      render();
    } catch (err) {
      if (ticket === view.loading) view.pending = null;
      console.error("inbox: cannot list messages", err);
    }
  }

  function upsert(message, isNew) {
    if (view.pending) view.pending.push([message, isNew]);
    const index = view.messages.findIndex((m) => m.id === message.id);
    if (index >= 0) {
      view.messages[index] = message;
    } else if (matches(message, filters())) {
      let at = view.messages.findIndex((m) => m.id < message.id);
      if (at < 0) at = view.messages.length;
      view.messages.splice(at, 0, message);
      if (view.messages.length > LIMIT) view.messages.length = LIMIT;
      if (isNew) view.fresh.add(message.id);
    }
    render();
    if (view.selected === message.id) open(message.id);
  }

  function setLive(on) {
    const live = byId("live");
    live.className = on ? "live on" : "live off";
    live.textContent = on ? "live" : "reconnecting…";
  }

  function connect() {
    const events = new EventSource("/_sandbox/events");
    // Listed after the stream is open, so nothing received in between is missed.
    events.addEventListener("ready", () => {
      setLive(true);
      load();
    });
    events.addEventListener("received", (event) => {
      const data = JSON.parse(event.data);
      view.kept = data.kept;
      view.dropped = data.dropped;
      // What the server dropped to stay within --keep goes from the page too.
      if (data.oldest_kept !== null && data.oldest_kept !== undefined) {
        view.messages = view.messages.filter((m) => m.id >= data.oldest_kept);
      }
      upsert(data.message, true);
    });
    events.addEventListener("updated", (event) => upsert(JSON.parse(event.data).message, false));
    events.addEventListener("cleared", () => {
      if (view.pending) load(); // the list under way may predate the clear
      view.messages = [];
      view.kept = 0;
      view.dropped = 0;
      close();
      render();
    });
    events.addEventListener("lagged", () => load());
    events.addEventListener("error", () => setLive(false));
  }

  function meta(list, name, value, className) {
    list.append(el("dt", "", name), el("dd", className || "", value));
  }

  async function open(id) {
    view.selected = id;
    render();
    let detail;
    try {
      const answer = await fetch(`/_sandbox/messages/${encodeURIComponent(id)}`, { cache: "no-store" });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      detail = await answer.json();
    } catch (err) {
      console.error("inbox: cannot open message", id, err);
      return;
    }
    if (view.selected !== id) return;
    const m = detail.message;
    byId("detail-title").textContent = `Message ${m.id} · ${m.vendor} ${m.operation}`;
    const list = byId("detail-meta");
    list.replaceChildren();
    meta(list, "Received", m.received_at);
    meta(list, "To", `${m.to_formatted} (${m.to})`);
    meta(list, "From", m.from ?? "—");
    meta(list, "Encoding", `${encoding(m)} · ${m.units} ${m.encoding === "gsm7" ? "septets" : "UTF-16 units"}`);
    meta(list, "Message id", m.vendor_message_id ?? "—", "mono");
    meta(list, "Fault", m.fault ? FAULTS[m.fault] || m.fault : "none", m.fault ? "fault" : "");
    const report = m.report;
    let pushes = "—";
    if (report.outcome && report.pushes === 0) {
      pushes = `${report.outcome}; no report pushed (the sandbox has no --push-url)`;
    } else if (report.outcome) {
      pushes = `${report.outcome}; pushes: ${report.pushes} queued, ${report.pushes_delivered} delivered, ${report.pushes_dropped} dropped`;
    }
    meta(list, "Delivery report", pushes);
    byId("detail-text").replaceChildren(textNode(m.text));
    const r = detail.request;
    byId("detail-request-line").textContent = `${r.method} ${r.path}${r.query ? `?${r.query}` : ""}`;
    const headers = byId("detail-headers").tBodies[0];
    headers.replaceChildren(...r.headers.map((h) => {
      const tr = el("tr");
      tr.append(el("td", "", h.name), el("td", h.value === "[redacted]" ? "redacted" : "", h.value));
      return tr;
    }));
    byId("detail-body").textContent = r.body || "(no body)";
    const note = byId("detail-fault");
    note.hidden = !m.fault || m.fault === "rejected";
    note.textContent = note.hidden ? "" : `Injected fault: ${FAULTS[m.fault]}. The client did not get this answer as shown.`;
    byId("detail-answer").textContent = detail.answer
      ? `HTTP ${detail.answer.status}\n${detail.answer.body}`
      : "(not answered yet)";
    byId("detail").hidden = false;
    document.body.classList.add("detail-open");
  }

  function close() {
    view.selected = null;
    byId("detail").hidden = true;
    document.body.classList.remove("detail-open");
    render();
  }

  let filterTimer = 0;
  function onFilter() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(load, 120);
  }

  document.addEventListener("DOMContentLoaded", () => {
    byId("filters").addEventListener("submit", (event) => event.preventDefault());
    for (const id of ["filter-to", "filter-text"]) byId(id).addEventListener("input", onFilter);
    byId("filter-vendor").addEventListener("change", onFilter);
    byId("detail-close").addEventListener("click", close);
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
    byId("clear").addEventListener("click", async () => {
      const answer = await fetch("/_sandbox/messages", { method: "DELETE" });
      if (answer.ok) {
        view.messages = [];
        view.kept = 0;
        view.dropped = 0;
        close();
      }
    });
    connect();
  });
})();
