import { atBottom, clock, h, ownFields, pretty } from "./dom.js";

const MAX_ENTRIES = 2000;

/** Colour family of an event type, used as a CSS class. */
export function category(type) {
  if (type === "error" || type === "connect_error") return "error";
  if (/^(connect|connected|disconnect|reconnect.*|server_shutdown)$/.test(type)) return "conn";
  if (type === "ping" || type === "pong") return "ping";
  if (/^stream_|^speaker_change$|^message$|^resume$|^agent_|^status$/.test(type)) return "stream";
  if (/^(resume_run|run_interrupted|custom_event|state_update|get_history)$/.test(type))
    return "graph";
  if (/^tool_/.test(type)) return "tool";
  if (/^cancel/.test(type)) return "cancel";
  if (/project|progress_update|user_feedback/.test(type)) return "project";
  return "other";
}

/** The event log: every event in and out, filterable by type, each expandable to its JSON. */
export class EventLog {
  constructor(list, filter, clearButton) {
    this.list = list;
    this.filter = filter;
    this.types = new Set();
    filter.addEventListener("change", () => this.applyFilter());
    clearButton.addEventListener("click", () => this.clear());
  }

  /** direction: "in" (from the server), "out" (to the server) or "local" (client-side). */
  add(direction, type, payload) {
    const follow = atBottom(this.list);
    const arrow = direction === "in" ? "↓" : direction === "out" ? "↑" : "•";
    const label = direction === "in" ? "received" : direction === "out" ? "sent" : "local";
    const entry = h(
      "li",
      {
        class: `log-entry cat-${category(type)} dir-${direction}`,
        dataset: { testid: "log-entry", type, direction },
      },
      h(
        "details",
        {},
        h(
          "summary",
          {},
          h("time", { class: "log-time" }, clock()),
          h("span", { class: "log-dir", "aria-label": label, title: label }, arrow),
          h("span", { class: "log-type" }, type),
          h("span", { class: "log-brief" }, brief(payload)),
        ),
        h("pre", { class: "log-json", dataset: { testid: "log-json" } }, pretty(payload ?? null)),
      ),
    );
    if (this.filter.value && this.filter.value !== type) entry.hidden = true;
    this.list.append(entry);
    while (this.list.childElementCount > MAX_ENTRIES) this.list.firstElementChild.remove();
    if (!this.types.has(type)) {
      this.types.add(type);
      this.rebuildFilter();
    }
    if (follow) this.list.scrollTop = this.list.scrollHeight;
  }

  rebuildFilter() {
    const current = this.filter.value;
    const options = [...this.types].sort().map((t) => h("option", { value: t }, t));
    this.filter.replaceChildren(h("option", { value: "" }, "All types"), ...options);
    this.filter.value = current;
  }

  applyFilter() {
    const wanted = this.filter.value;
    for (const entry of this.list.children)
      entry.hidden = Boolean(wanted) && entry.dataset.type !== wanted;
    this.list.scrollTop = this.list.scrollHeight;
  }

  clear() {
    this.list.replaceChildren();
    this.types.clear();
    this.rebuildFilter();
  }
}

/** A one-line summary shown beside the type. */
function brief(payload) {
  if (payload === undefined || payload === null) return "";
  if (typeof payload !== "object") return String(payload);
  const p = payload;
  const pick = [
    p.request_type && `${p.request_type}`,
    p.ok === true && "ok",
    p.ok === false && `✗ ${p.error?.code ?? "error"}`,
    p.code && `${p.code}`,
    p.message_id && `#${String(p.message_id).slice(0, 8)}`,
    p.seq !== undefined && `seq ${p.seq}`,
    p.agent && `${p.agent}`,
    p.tool_name && `${p.tool_name}`,
    typeof p.name === "string" && p.name,
    typeof p.graph === "string" && `graph ${p.graph}`,
    p.resumed === true && "resumed",
    p.project_id && `${p.project_id}`,
    typeof p.content === "string" && JSON.stringify(p.content.slice(0, 40)),
    typeof p.message === "string" && p.message.slice(0, 60),
  ].filter(Boolean);
  if (pick.length > 0) return pick.join(" · ");
  // An event this page does not know: its own fields, in short.
  const text = JSON.stringify(ownFields(p));
  return text === "{}" ? "" : text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
