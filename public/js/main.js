import { ComposerPanel } from "./composer-panel.js";
import { createConnection, DEFAULT_TRANSPORT, isLocalFailure, isTransport } from "./connection.js";
import { Conversation } from "./conversation.js";
import { enterToSend } from "./composer.js";
import { showConnectionState } from "./connection-view.js";
import { ui } from "./elements.js";
import { showEvent } from "./events.js";
import { GraphSelect } from "./graph-select.js";
import { HISTORY_LIMIT, showHistory } from "./history.js";
import { InterruptCards } from "./interrupt-card.js";
import { EventLog } from "./log.js";
import { recall, remember, STORED } from "./settings.js";
import { refreshStatistics, renderCounters } from "./statistics.js";

const STATS_EVERY_MS = 3_000;

/** The page's only mutable state. */
const app = {
  /** The current client (see connection-base.js), or undefined before Connect. */
  connection: undefined,
  connectionId: undefined,
  counters: { sent: 0, received: 0 },
  /** performance.now() of each ping awaiting its pong. */
  pings: [],
  /** Parameters of direct tool calls awaiting their result, by tool name. */
  toolRequests: new Map(),
  /** The session whose earlier conversation the page has shown (get_history). */
  historySession: undefined,
};

const log = new EventLog(ui.log, ui.logFilter, ui.logClear);
const composer = new ComposerPanel(ui);
const conversation = new Conversation(ui.conversation, ui.newContent, {
  onActivity: () => renderActivity(),
  onGap: (messageId, afterSeq) => {
    // A chunk arrived early: ask for what is missing; duplicates are dropped by seq.
    if (app.connection?.state === "connected")
      void send("resume", { message_id: messageId, after_seq: afterSeq });
  },
});
const graphs = new GraphSelect(ui.graphSelect);
// The card shows the ack itself: none under the composer, no ack card.
const cards = new InterruptCards(conversation, (type, payload) =>
  send(type, payload, undefined, { quiet: true }),
);
const eventContext = { app, ui, conversation, cards, onConnected };

const baseUrl = () => (ui.serverUrl.value.trim() || window.location.origin).replace(/\/+$/, "");

const updateStatistics = () => refreshStatistics(ui.stat, baseUrl(), app.connectionId);

// ---------------------------------------------------------------- connection

function setState(state, text, detail) {
  showConnectionState(ui, state, text, detail);
  renderActivity();
}

function connect() {
  app.connection?.close();
  const transport = ui.transport.value;
  const options = {
    url: baseUrl(),
    sessionId: ui.sessionId.value.trim(),
    token: ui.token.value.trim(),
  };
  log.add("local", "connecting", {
    url: options.url,
    transport,
    session_id: options.sessionId || null,
    token: options.token ? "(set)" : null,
  });
  const connection = createConnection(transport, options);
  app.connection = connection;
  connection.onState(setState);
  connection.onLog((direction, type, payload) => log.add(direction, type, payload));
  connection.onEvent((type, payload) => {
    app.counters.received += 1;
    log.add("in", type, payload);
    showEvent(type, payload, eventContext);
    renderCounters(ui.stat, app.counters);
  });
  connection.connect();
}

function disconnect() {
  if (!app.connection) return;
  log.add("local", "disconnect", { reason: "asked by you" });
  app.connection.close();
  app.connection = undefined;
}

function onConnected(ev) {
  app.connectionId = ev.connection_id;
  ui.sessionId.value = ev.session_id;
  ui.sessionDisplay.textContent = ev.session_id;
  ui.connectionDisplay.textContent = ev.connection_id;
  remember(STORED.session, ev.session_id);
  void updateStatistics();
  // Streams cut by the drop: ask for what came after the last chunk shown.
  for (const open of conversation.unfinished()) {
    void send("resume", open).then((ack) => {
      if (!ack.ok && !isLocalFailure(ack))
        conversation.failed({ message_id: open.message_id, ...ack.error });
    });
  }
  void restoreHistory(ev.session_id);
}

/**
 * The session's earlier conversation with the chosen graph, once per session
 * (a reconnection keeps what the page shows), and a run still waiting for an
 * answer, which may have paused while the connection was down.
 */
async function restoreHistory(sessionId) {
  const graph = graphs.value;
  const ack = await send(
    "get_history",
    { limit: HISTORY_LIMIT, ...(graph ? { graph } : {}) },
    undefined,
    { quiet: true },
  );
  if (!ack.ok) {
    conversation.addNote(
      "error",
      `get_history: ${ack.error?.code} — ${ack.error?.message}`,
      "error-note",
    );
    return;
  }
  const full = app.historySession !== sessionId;
  app.historySession = sessionId;
  showHistory(ack.data, { conversation, cards, full });
}

// ---------------------------------------------------------------- sending

/**
 * Sends with an ack; resolves to the ack ({ok, data} or {ok: false, error}).
 * `quiet`: the caller shows the ack itself (it is still logged and counted).
 */
async function send(type, payload = {}, bubble = undefined, { quiet = false } = {}) {
  const connection = app.connection;
  if (connection?.state !== "connected") {
    const ack = { ok: false, error: { code: "not_connected", message: "Connect first" } };
    if (!quiet) showAck(type, ack, bubble);
    return ack;
  }
  app.counters.sent += 1;
  log.add("out", type, payload);
  renderCounters(ui.stat, app.counters);
  if (type === "ping") app.pings.push(performance.now());
  if (type === "tool_call") app.toolRequests.set(payload.tool_name, payload.params);
  const ack = await connection.request(type, payload);
  const local = isLocalFailure(ack);
  if (!local) app.counters.received += 1;
  log.add(local ? "local" : "in", "ack", { request_type: type, ...ack });
  renderCounters(ui.stat, app.counters);
  if (!quiet) showAck(type, ack, bubble);
  void updateStatistics();
  return ack;
}

/** The ack's verdict under the composer; its data, and a refusal of a bubble's message, in the conversation. */
function showAck(type, ack, bubble) {
  ui.ack.dataset.ok = String(Boolean(ack?.ok));
  ui.ack.textContent = ack?.ok
    ? `✓ ${type} accepted`
    : `✗ ${type}: ${ack?.error?.code ?? "error"} — ${ack?.error?.message ?? ""}`;
  if (ack?.ok && hasData(ack.data)) conversation.addCard(`${type} ✓`, ack.data, "ack-card");
  if (!ack?.ok && bubble) conversation.markFailed(bubble, ack?.error);
}

const hasData = (data) =>
  data !== undefined &&
  data !== null &&
  !(typeof data === "object" && Object.keys(data).length === 0);

/** The conversation bubble a payload stands for, if it is something the reader said. */
function bubbleFor(type, payload) {
  if (type === "message" && typeof payload.content === "string")
    return conversation.addUser(payload.content);
  if (type === "start_conversation" && payload.topic)
    return conversation.addUser(payload.topic, "You · discussion topic");
  if (type === "agent_query" && payload.query)
    return conversation.addUser(payload.query, "You · agent query");
  return undefined;
}

function cancelRun() {
  const active = conversation.activeMessage();
  return send("cancel", active ? { message_id: active.id } : {});
}

async function submitComposer() {
  const type = composer.type;
  if (!type) return;
  if (app.connection?.state !== "connected") {
    showAck(type, { ok: false, error: { code: "not_connected", message: "Connect first" } });
    return;
  }
  let payload;
  try {
    payload = composer.readPayload();
    if (type === "message") payload = graphs.withGraph(payload);
  } catch (error) {
    showAck(type, { ok: false, error: { code: "bad_input", message: error.message } });
    return;
  }
  const ack = await send(type, payload, bubbleFor(type, payload));
  if (ack.ok) composer.clearFreeText();
}

function renderActivity() {
  const active = conversation.activeMessage();
  ui.typing.hidden = !conversation.isStreaming();
  ui.cancel.hidden = !(active && active.status === "streaming");
}

// ---------------------------------------------------------------- wiring

/**
 * On a narrow window the quick actions sit below the conversation: an action
 * that starts a stream brings the conversation back into view.
 */
function showConversation() {
  const box = ui.conversation.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight)
    ui.conversation.scrollIntoView({ block: "nearest" });
}

const quickActions = {
  ping: () => send("ping", {}),
  ask: () => {
    const content = ui.quickText.value.trim() || "Hello";
    const sent = send("message", graphs.withGraph({ content }), conversation.addUser(content));
    showConversation();
    return sent;
  },
  calculate: () =>
    send("tool_call", { tool_name: "calculator", params: { expression: "123 + 456" } }),
  join: () => send("join_project", { project_id: ui.quickProject.value.trim() || "demo-project" }),
  discuss: () => {
    const topic = ui.quickText.value.trim() || "The future of gateways";
    const sent = send("start_conversation", { topic }, bubbleFor("start_conversation", { topic }));
    showConversation();
    return sent;
  },
  cancel: () => cancelRun(),
};

function init() {
  ui.serverUrl.value = window.location.origin;
  ui.sessionId.value = recall(STORED.session);
  const transport = recall(STORED.transport);
  ui.transport.value = isTransport(transport) ? transport : DEFAULT_TRANSPORT;
  setState("disconnected", "Disconnected");

  ui.connectionForm.addEventListener("submit", (event) => {
    event.preventDefault();
    connect();
  });
  ui.disconnect.addEventListener("click", disconnect);
  ui.transport.addEventListener("change", () => remember(STORED.transport, ui.transport.value));
  ui.serverUrl.addEventListener("change", () => {
    void composer.loadHandlers(baseUrl());
    void graphs.load(baseUrl());
    void updateStatistics();
  });
  ui.stat.apiKey.addEventListener("change", () => void updateStatistics());
  ui.cancel.addEventListener("click", () => void cancelRun());
  ui.clearChat.addEventListener("click", () => {
    conversation.clear();
    cards.forget();
  });
  enterToSend(ui.composer);
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitComposer();
  });
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => {
      if (Object.hasOwn(quickActions, button.dataset.action))
        void quickActions[button.dataset.action]();
    });
  }

  void composer.loadHandlers(baseUrl());
  void graphs.load(baseUrl());
  void updateStatistics();
  setInterval(() => void updateStatistics(), STATS_EVERY_MS);
  document.addEventListener("visibilitychange", () => void updateStatistics());

  // A handle for the browser's devtools (and the browser tests).
  window.gatewayConsole = {
    get connection() {
      return app.connection;
    },
    conversation,
    cards,
    connect,
    disconnect,
    send,
  };
  document.body.dataset.ready = "true";
}

init();
