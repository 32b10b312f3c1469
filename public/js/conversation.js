import { atBottom, h, pretty } from "./dom.js";

const TICK_MS = 16;
/** How long an ended stream waits for replayed chunks before it is judged as it stands. */
const LATE_CHUNKS_MS = 3000;

/** Appends to a part's text; a discussion turn drops the blank lines that open it. */
function show(part, text) {
  part.node.appendData(part.trimStart && part.node.length === 0 ? text.replace(/^\s+/, "") : text);
}

/**
 * Reveals streamed text a few characters at a time. It runs on timers rather
 * than animation frames so a background tab still finishes its answers.
 */
export class Typewriter {
  constructor(onIdle) {
    this.parts = new Set();
    this.timer = undefined;
    this.onIdle = onIdle;
  }

  push(part, text) {
    part.target += text;
    this.parts.add(part);
    this.schedule();
  }

  schedule() {
    if (this.timer === undefined) this.timer = setTimeout(() => this.tick(), TICK_MS);
  }

  tick() {
    this.timer = undefined;
    const fast = document.hidden;
    for (const part of this.parts) {
      const backlog = part.target.length - part.shown;
      // Never past the backlog: `shown` must end exactly at the text's end, or the next chunk loses its first characters.
      const step = fast ? backlog : Math.min(backlog, Math.max(2, Math.ceil(backlog / 6)));
      show(part, part.target.slice(part.shown, part.shown + step));
      part.shown += step;
      if (part.shown >= part.target.length) this.parts.delete(part);
    }
    this.onIdle?.();
    if (this.parts.size > 0) this.schedule();
  }

  /** Shows everything of these parts at once. */
  flush(parts) {
    for (const part of parts) {
      if (part.shown < part.target.length) {
        show(part, part.target.slice(part.shown));
        part.shown = part.target.length;
      }
      this.parts.delete(part);
    }
  }

  busy(parts) {
    return parts.some((p) => p.shown < p.target.length);
  }
}

/**
 * The conversation view: user turns, streamed agent answers (deduplicated and
 * ordered by seq), inline tool calls, discussion turns and system notes.
 */
export class Conversation {
  /**
   * @param {HTMLElement} list the <ol> holding the conversation
   * @param {HTMLButtonElement} newContent the "new content ↓" button, shown while the reader is scrolled up
   * @param {{onActivity?: () => void, onGap?: (messageId: string, afterSeq: number) => void}} hooks
   */
  constructor(list, newContent, hooks = {}) {
    this.list = list;
    this.newContent = newContent;
    this.hooks = hooks;
    this.messages = new Map();
    // Whether the reader is at the bottom, as of their last scroll: content that
    // grows must not be what decides it, or a long answer would stop being followed.
    this.following = true;
    this.typewriter = new Typewriter(() => this.settle());
    // Every change counts, text typed into an answer included, not only new elements.
    new MutationObserver(() => this.keepUp()).observe(list, {
      childList: true,
      subtree: true,
      characterData: true,
    });
    list.addEventListener("scroll", () => {
      this.following = atBottom(list);
      if (this.following) newContent.hidden = true;
    });
    newContent.addEventListener("click", () => {
      this.following = true;
      this.keepUp();
    });
  }

  clear() {
    this.typewriter.flush([...this.typewriter.parts]);
    this.messages.clear();
    this.list.replaceChildren();
    this.newContent.hidden = true;
    this.following = true;
    this.hooks.onActivity?.();
  }

  /** After any change: follow the bottom, or tell a reader who scrolled up that more came. */
  keepUp() {
    if (this.following) {
      this.list.scrollTop = this.list.scrollHeight;
      this.newContent.hidden = true;
    } else if (!atBottom(this.list)) {
      this.newContent.hidden = false;
    }
  }

  append(el) {
    this.list.append(el);
    return el;
  }

  /** Data the page has no view for (an ack's data, another handler's event), as expandable JSON. */
  addCard(title, data, testid = "data-card") {
    return this.append(
      h(
        "li",
        { class: "note note-data", dataset: { testid } },
        h(
          "details",
          {},
          h(
            "summary",
            {},
            h("strong", {}, title),
            " ",
            h("code", { class: "card-brief" }, compact(data)),
          ),
          h("pre", { class: "card-json", dataset: { testid: "card-json" } }, pretty(data)),
        ),
      ),
    );
  }

  addUser(text, label = "You") {
    return this.append(
      h(
        "li",
        { class: "turn-user", dataset: { testid: "user-message" } },
        h("div", { class: "who" }, label),
        h("div", { class: "bubble" }, text),
      ),
    );
  }

  /** A message of the reader's that the server refused: it stays, marked, with the reason. */
  markFailed(bubble, error) {
    bubble.dataset.status = "failed";
    bubble.append(
      h(
        "div",
        { class: "send-failed", dataset: { testid: "send-failed" }, role: "alert" },
        `✗ not sent: ${error?.code ?? "error"} — ${error?.message ?? ""}`,
      ),
    );
  }

  /** A one-line note: kind is info, ok, error or tool. */
  addNote(kind, content, testid = "note") {
    return this.append(
      h("li", { class: `note note-${kind}`, dataset: { testid } }, ...[content].flat()),
    );
  }

  /** The message with this id, created on first sight (a stream may begin in another tab). */
  ensure(messageId) {
    let msg = this.messages.get(messageId);
    if (msg) return msg;
    const header = h("span", { class: "who-name" }, "Agent");
    const status = h("span", { class: "msg-status", dataset: { testid: "message-status" } });
    const body = h("div", { class: "bubble", dataset: { testid: "message-body" } });
    const el = h(
      "li",
      {
        class: "turn-agent",
        dataset: { testid: "agent-message", messageId, status: "streaming" },
      },
      h("div", { class: "who" }, header, status),
      body,
    );
    msg = {
      id: messageId,
      el,
      header,
      statusEl: status,
      body,
      status: "streaming",
      lastSeq: 0,
      pending: new Map(),
      gapReported: 0,
      duplicates: 0,
      parts: [],
      text: undefined,
      agent: undefined,
      discussion: false,
      ended: undefined,
      progress: undefined,
    };
    this.messages.set(messageId, msg);
    this.append(el);
    this.setStatus(msg, "streaming");
    return msg;
  }

  setStatus(msg, status) {
    msg.status = status;
    msg.el.dataset.status = status;
    const labels = {
      streaming: "",
      finishing: "",
      done: "✓ done",
      cancelled: "■ cancelled",
      error: "✗ failed",
      expired: "✗ stream expired",
      interrupted: "waiting for an answer",
    };
    msg.statusEl.textContent = labels[status] ?? status;
    msg.statusEl.dataset.testid = status === "done" ? "done-mark" : "message-status";
    msg.el.classList.toggle("is-streaming", status === "streaming" || status === "finishing");
    // A bar that stopped part-way ("agent 0/1") says nothing true about a run that is over.
    if (msg.progress && !["streaming", "finishing", "done", "interrupted"].includes(status)) {
      msg.progress.bar.closest(".msg-progress")?.remove();
      msg.progress = undefined;
    }
    this.hooks.onActivity?.();
  }

  /** The text part chunks go to now; a new one after a tool block or a speaker change. */
  textPart(msg) {
    if (msg.text) return msg.text;
    const node = document.createTextNode("");
    const el = h("span", { class: "msg-text", dataset: { testid: "message-text" } });
    el.append(node);
    const part = { el, node, target: "", shown: 0, trimStart: Boolean(msg.turnBody) };
    msg.parts.push(part);
    (msg.turnBody ?? msg.body).append(el);
    msg.text = part;
    return part;
  }

  streamStart(ev) {
    const msg = this.ensure(ev.message_id);
    // A resumed run numbers its events from 1 again and ends with only what it added.
    if (ev.resumed && msg.status === "interrupted") this.resumeSegment(msg);
    if (msg.status !== "streaming") this.setStatus(msg, "streaming");
    return msg;
  }

  resumeSegment(msg) {
    this.typewriter.flush(msg.parts);
    msg.body.append(
      h("div", { class: "resumed-mark", dataset: { testid: "resumed-mark" } }, "resumed"),
    );
    msg.parts = [];
    msg.text = undefined;
    msg.lastSeq = 0;
    msg.pending.clear();
    msg.gapReported = 0;
    msg.ended = undefined;
  }

  /** The run paused at interrupt(): no stream_end follows until resume_run. */
  interrupted(ev) {
    const msg = this.ensure(ev.message_id);
    this.typewriter.flush(msg.parts);
    this.setStatus(msg, "interrupted");
  }

  speakerChange(ev) {
    const msg = this.ensure(ev.message_id);
    msg.discussion = true;
    this.startTurn(msg, ev.agent, ev.round);
  }

  startTurn(msg, agent, round) {
    const label = h(
      "span",
      { class: "agent-label", dataset: { testid: "agent-label", agent: agent ?? "" } },
      agent ?? "agent",
      round !== undefined ? h("span", { class: "round" }, ` · round ${round}`) : null,
    );
    const turnBody = h("div", { class: "discussion-text" });
    msg.body.append(
      h(
        "div",
        { class: "discussion-turn", dataset: { testid: "discussion-turn" } },
        label,
        turnBody,
      ),
    );
    msg.turnBody = turnBody;
    msg.turnAgent = agent;
    msg.text = undefined;
    msg.header.textContent = "Discussion";
  }

  /** Applies a chunk in seq order; duplicates are dropped, early ones wait for the gap to fill. */
  chunk(ev) {
    const msg = this.ensure(ev.message_id);
    if (msg.status !== "streaming" && msg.status !== "finishing") return false;
    const seq = ev.seq;
    if (typeof seq !== "number") {
      this.applyChunk(msg, ev);
      return true;
    }
    if (seq <= msg.lastSeq || msg.pending.has(seq)) {
      msg.duplicates += 1;
      msg.el.dataset.duplicates = String(msg.duplicates);
      return false;
    }
    if (seq > msg.lastSeq + 1) {
      msg.pending.set(seq, ev);
      if (msg.gapReported !== msg.lastSeq) {
        msg.gapReported = msg.lastSeq;
        this.hooks.onGap?.(msg.id, msg.lastSeq);
      }
      return true;
    }
    this.applyChunk(msg, ev);
    msg.lastSeq = seq;
    while (msg.pending.has(msg.lastSeq + 1)) {
      const next = msg.pending.get(msg.lastSeq + 1);
      msg.pending.delete(msg.lastSeq + 1);
      this.applyChunk(msg, next);
      msg.lastSeq += 1;
    }
    msg.el.dataset.lastSeq = String(msg.lastSeq);
    if (msg.ended && msg.pending.size === 0) this.settle();
    return true;
  }

  applyChunk(msg, ev) {
    // A graph's own events share the stream's seq: they are shown in their place among the chunks.
    if (ev.type === "custom_event") return this.inlineLine(msg, customLine(ev));
    if (ev.type === "state_update") return this.inlineLine(msg, updateLine(ev));
    if (ev.agent && !msg.agent) {
      msg.agent = ev.agent;
      if (!msg.discussion) msg.header.textContent = ev.agent;
    }
    if (msg.discussion && ev.agent && ev.agent !== msg.turnAgent) this.startTurn(msg, ev.agent);
    if (typeof ev.content === "string" && ev.content.length > 0) {
      this.typewriter.push(this.textPart(msg), ev.content);
    }
  }

  /** A line inside the answer (a graph's event); the text after it is a new part. */
  inlineLine(msg, el) {
    this.typewriter.flush(msg.parts);
    (msg.turnBody ?? msg.body).append(el);
    msg.text = undefined;
  }

  toolStart(ev) {
    const msg = this.ensure(ev.message_id);
    this.typewriter.flush(msg.parts);
    const result = h(
      "span",
      { class: "tool-result pending", dataset: { testid: "tool-result-value" } },
      "running…",
    );
    const el = h(
      "div",
      { class: "tool-block", dataset: { testid: "tool-call", tool: ev.tool_name } },
      h("span", { class: "tool-badge", "aria-hidden": "true" }, "tool"),
      h("span", { class: "tool-name" }, ev.tool_name),
      h("code", { class: "tool-input" }, compact(ev.input)),
      h("span", { class: "tool-arrow", "aria-hidden": "true" }, "→"),
      result,
    );
    (msg.turnBody ?? msg.body).append(el);
    msg.tools = [...(msg.tools ?? []), { name: ev.tool_name, result }];
    msg.text = undefined;
  }

  /** A tool result: inside its message when it has one, else a note (a direct tool_call). */
  toolResult(ev, request) {
    if (ev.message_id) {
      const msg = this.ensure(ev.message_id);
      const slot = (msg.tools ?? []).find(
        (t) => t.name === ev.tool_name && t.result.classList.contains("pending"),
      );
      if (slot) {
        slot.result.textContent = compact(ev.result);
        slot.result.classList.remove("pending");
      } else {
        this.typewriter.flush(msg.parts);
        (msg.turnBody ?? msg.body).append(
          h(
            "div",
            { class: "tool-block", dataset: { testid: "tool-call", tool: ev.tool_name } },
            h("span", { class: "tool-badge", "aria-hidden": "true" }, "tool"),
            h("span", { class: "tool-name" }, ev.tool_name),
            h("span", { class: "tool-arrow", "aria-hidden": "true" }, "→"),
            h(
              "span",
              { class: "tool-result", dataset: { testid: "tool-result-value" } },
              compact(ev.result),
            ),
          ),
        );
        msg.text = undefined;
      }
      return;
    }
    const input = request?.expression ?? (request ? compact(request) : "");
    this.addNote(
      "tool",
      [
        h("span", { class: "tool-badge", "aria-hidden": "true" }, "tool"),
        h("span", { class: "tool-name" }, ev.tool_name),
        input ? h("code", { class: "tool-input" }, input) : null,
        h("span", { class: "tool-arrow", "aria-hidden": "true" }, "="),
        h(
          "strong",
          { class: "tool-result", dataset: { testid: "tool-result-value" } },
          compact(ev.result),
        ),
      ],
      "tool-result",
    );
  }

  progress(ev) {
    const msg = this.ensure(ev.message_id);
    if (msg.status !== "streaming" && msg.status !== "finishing") return;
    const { stage = "", completed = 0, total = 0 } = ev.data ?? {};
    if (!msg.progress) {
      const bar = h("progress", { max: "1", value: "0", "aria-label": "Run progress" });
      const text = h("span", { class: "progress-text" });
      msg.progress = { bar, text };
      msg.el.insertBefore(
        h("div", { class: "msg-progress", dataset: { testid: "progress" } }, bar, text),
        msg.body,
      );
    }
    msg.progress.bar.max = Math.max(Number(total) || 1, 1);
    msg.progress.bar.value = Number(completed) || 0;
    msg.progress.text.textContent = `${stage} ${completed}/${total}`.trim();
  }

  streamEnd(ev) {
    const msg = this.ensure(ev.message_id);
    if (msg.status !== "streaming") return;
    msg.ended = ev;
    msg.endedAt = Date.now();
    this.setStatus(msg, "finishing");
    this.settle();
  }

  /** Marks ended messages done once every chunk has arrived and been typed out. */
  settle() {
    for (const msg of this.messages.values()) {
      if (msg.status !== "finishing" || msg.pending.size > 0 || this.typewriter.busy(msg.parts))
        continue;
      const shown = msg.parts.map((p) => p.target).join("");
      const expected = msg.ended?.total_content;
      if (
        typeof expected === "string" &&
        expected.length > shown.length &&
        expected.startsWith(shown) &&
        Date.now() - (msg.endedAt ?? 0) < LATE_CHUNKS_MS
      ) {
        // The end overtook chunks a resume is still replaying: wait for them a little.
        setTimeout(() => this.settle(), 100);
        continue;
      }
      if (typeof expected === "string" && expected !== shown) {
        msg.el.dataset.mismatch = "true";
        msg.body.append(
          h(
            "p",
            { class: "mismatch", dataset: { testid: "mismatch" }, role: "alert" },
            "The streamed text differs from the server's total_content.",
          ),
        );
      }
      this.setStatus(msg, "done");
    }
  }

  cancelled(ev) {
    const msg = ev.message_id ? this.messages.get(ev.message_id) : this.activeMessage();
    if (!msg) {
      this.addNote("info", "Run cancelled.", "cancelled-note");
      return;
    }
    this.typewriter.flush(msg.parts);
    msg.pending.clear();
    this.setStatus(msg, "cancelled");
  }

  failed(ev) {
    const msg = this.ensure(ev.message_id);
    this.typewriter.flush(msg.parts);
    msg.body.append(h("p", { class: "msg-error", role: "alert" }, `${ev.code}: ${ev.message}`));
    this.setStatus(msg, ev.code === "stream_expired" ? "expired" : "error");
  }

  /** A whole answer at once (agent_query): typed out, then done. */
  fullAnswer(ev) {
    const msg = this.ensure(ev.message_id ?? `answer-${Date.now()}`);
    msg.header.textContent = ev.vendor ? `Agent · ${ev.vendor}` : "Agent";
    this.typewriter.push(this.textPart(msg), String(ev.content ?? ""));
    msg.ended = { total_content: String(ev.content ?? "") };
    msg.endedAt = Date.now();
    this.setStatus(msg, "finishing");
    this.settle();
  }

  /** Streams still open, with the last contiguous seq each has shown. */
  unfinished() {
    return [...this.messages.values()]
      .filter((m) => m.status === "streaming")
      .map((m) => ({ message_id: m.id, after_seq: m.lastSeq }));
  }

  activeMessage() {
    const open = [...this.messages.values()].filter(
      (m) => m.status === "streaming" || m.status === "finishing",
    );
    return open.at(-1);
  }

  isStreaming() {
    return [...this.messages.values()].some(
      (m) => m.status === "streaming" || m.status === "finishing",
    );
  }
}

/** A custom event: its name (none for LangGraph's writer) and its data in short. */
function customLine(ev) {
  return h(
    "div",
    { class: "graph-line custom-line", dataset: { testid: "custom-event", name: ev.name ?? "" } },
    h("span", { class: "graph-badge", "aria-hidden": "true" }, "event"),
    h("strong", { class: "graph-name" }, ev.name ?? "(writer)"),
    h("code", { class: "graph-data" }, compact(ev.data ?? null)),
  );
}

/** What a node wrote to the graph's state (stream_modes: ["updates"]). */
function updateLine(ev) {
  return h(
    "div",
    { class: "graph-line update-line", dataset: { testid: "state-update", node: ev.node ?? "" } },
    h("span", { class: "graph-badge", "aria-hidden": "true" }, "update"),
    h("strong", { class: "graph-name" }, ev.node ?? ""),
    h("code", { class: "graph-data" }, compact(ev.update ?? null)),
  );
}

function compact(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = pretty(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text.replace(/\s*\n\s*/g, " ");
}
