import { Conversation } from "./conversation.js";
import { buildForm, enterToSend } from "./composer.js";
import { $, h, ownFields, pretty } from "./dom.js";
import { EventLog } from "./log.js";

const SESSION_KEY = "agent-gateway-console.session_id";
const ACK_TIMEOUT_MS = 30_000;
const STATS_EVERY_MS = 3_000;

const ui = {
  connectionForm: $("connection-form"),
  serverUrl: $("server-url"),
  sessionId: $("session-id"),
  token: $("token"),
  connect: $("connect-button"),
  disconnect: $("disconnect-button"),
  state: $("conn-state"),
  sessionDisplay: $("session-display"),
  connectionDisplay: $("connection-display"),
  typing: $("typing"),
  cancel: $("cancel-button"),
  clearChat: $("clear-chat"),
  composer: $("composer-form"),
  handlerSelect: $("handler-select"),
  handlerDescription: $("handler-description"),
  schemaForm: $("schema-form"),
  jsonField: $("json-field"),
  jsonEditor: $("json-editor"),
  modeForm: $("mode-form"),
  modeJson: $("mode-json"),
  ack: $("ack-result"),
  send: $("send-button"),
  composerHint: $("composer-hint"),
  quickText: $("quick-text"),
  quickProject: $("quick-project"),
  stat: {
    state: $("stat-state"),
    rtt: $("stat-rtt"),
    sent: $("stat-sent"),
    received: $("stat-received"),
    active: $("stat-active"),
    total: $("stat-total"),
    messages: $("stat-messages"),
    updated: $("stats-updated"),
    connections: $("stats-connections"),
  },
};

const log = new EventLog($("log"), $("log-filter"), $("log-clear"));
const conversation = new Conversation($("conversation"), $("new-content"), {
  onActivity: () => renderActivity(),
  onGap: (messageId, afterSeq) => {
    // A chunk arrived early: ask for what is missing; duplicates are dropped by seq.
    if (socket?.connected) send("resume", { message_id: messageId, after_seq: afterSeq });
  },
});

/** @type {import("socket.io-client").Socket | undefined} */
let socket;
let counters = { sent: 0, received: 0 };
const pings = [];
/** Parameters of direct tool calls awaiting their result, by tool name. */
const toolRequests = new Map();
let handlers = new Map();
let form;
let jsonMode = false;

// ---------------------------------------------------------------- connection

function baseUrl() {
  const raw = ui.serverUrl.value.trim() || window.location.origin;
  return raw.replace(/\/+$/, "");
}

function setState(state, text) {
  ui.state.dataset.state = state;
  ui.state.querySelector(".conn-state-text").textContent = text;
  ui.stat.state.textContent = text;
  const live = state === "connected" || state === "connecting" || state === "reconnecting";
  ui.connect.disabled = state === "connected" || state === "connecting";
  ui.disconnect.disabled = !live;
  document.body.dataset.connection = state;
  // Nothing may look sent that cannot be: sending waits for the connection.
  const ready = state === "connected";
  const reason = state === "reconnecting" ? "Reconnecting: wait to send" : "Connect to send";
  ui.send.disabled = !ready;
  ui.send.title = ready ? "" : reason;
  ui.composerHint.textContent = ready ? "Enter sends · Shift+Enter adds a line" : reason;
  for (const button of document.querySelectorAll("[data-action]")) {
    button.disabled = !ready;
    button.title = ready ? "" : reason;
  }
}

function connect() {
  if (socket) closeSocket();
  const sessionId = ui.sessionId.value.trim();
  const token = ui.token.value.trim();
  const auth = {};
  if (sessionId) auth.session_id = sessionId;
  if (token) auth.token = token;
  const url = baseUrl();
  setState("connecting", "Connecting…");
  log.add("local", "connecting", {
    url,
    session_id: sessionId || null,
    token: token ? "(set)" : null,
  });
  if (typeof window.io !== "function") {
    setState("refused", "Refused: the Socket.IO client script did not load");
    return;
  }
  const s = window.io(url, {
    auth,
    forceNew: true,
    // WebSocket first: one connection, no long-polling round trips to the gateway.
    transports: ["websocket", "polling"],
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
  });
  socket = s;
  s.onAny((type, payload) => {
    counters.received += 1;
    log.add("in", type, payload);
    handleEvent(type, payload ?? {});
    renderCounters();
  });
  s.on("connect", () => {
    log.add("local", "connect", { id: s.id, transport: s.io.engine?.transport?.name });
  });
  s.on("disconnect", (reason) => {
    log.add("local", "disconnect", { reason });
    ui.connectionDisplay.textContent = "—";
    if (s !== socket) return;
    if (s.active) setState("reconnecting", `Reconnecting… (${reason})`);
    else
      setState(
        "disconnected",
        reason === "io client disconnect" ? "Disconnected" : `Disconnected: ${reason}`,
      );
  });
  s.on("connect_error", (err) => {
    const data = err?.data;
    log.add("in", "connect_error", data ?? { message: err?.message });
    if (s !== socket) return;
    if (data?.code) setState("refused", `Refused: ${data.code} — ${data.message ?? err.message}`);
    else if (s.active) setState("reconnecting", `Reconnecting… (${err.message})`);
    else setState("refused", `Refused: ${err.message}`);
  });
  s.io.on("reconnect_attempt", (attempt) => {
    if (s !== socket) return;
    ui.state.dataset.attempt = String(attempt);
    setState("reconnecting", `Reconnecting (attempt ${attempt})…`);
    log.add("local", "reconnect_attempt", { attempt });
  });
  s.io.on("reconnect", (attempt) => log.add("local", "reconnect", { attempt }));
  s.io.on("reconnect_failed", () => {
    if (s === socket) setState("disconnected", "Disconnected: gave up reconnecting");
  });
}

function closeSocket() {
  const s = socket;
  socket = undefined;
  if (!s) return;
  s.offAny();
  s.disconnect();
}

function disconnect() {
  if (!socket) return;
  log.add("local", "disconnect", { reason: "asked by you" });
  closeSocket();
  ui.connectionDisplay.textContent = "—";
  setState("disconnected", "Disconnected");
  renderActivity();
}

function onConnected(ev) {
  // Pin the session: reconnections must come back to the same one.
  if (socket) socket.auth = { ...socket.auth, session_id: ev.session_id };
  ui.sessionId.value = ev.session_id;
  ui.sessionDisplay.textContent = ev.session_id;
  ui.connectionDisplay.textContent = ev.connection_id;
  delete ui.state.dataset.attempt;
  try {
    localStorage.setItem(SESSION_KEY, ev.session_id);
  } catch {
    /* storage may be disabled */
  }
  setState("connected", "Connected");
  void refreshStatistics();
  // Streams cut by the drop: ask for what came after the last chunk shown.
  for (const open of conversation.unfinished()) {
    void send("resume", open).then((ack) => {
      if (!ack.ok && ack.error?.code !== "ack_timeout") {
        conversation.failed({ message_id: open.message_id, ...ack.error });
      }
    });
  }
}

// ---------------------------------------------------------------- sending

/** Emits with an ack; the promise resolves to the ack ({ok, data} or {ok: false, error}). */
function send(type, payload = {}, bubble = undefined) {
  if (!socket?.connected) {
    const ack = { ok: false, error: { code: "not_connected", message: "Connect first" } };
    showAck(type, ack, bubble);
    return Promise.resolve(ack);
  }
  counters.sent += 1;
  log.add("out", type, payload);
  renderCounters();
  if (type === "ping") pings.push(performance.now());
  if (type === "tool_call") toolRequests.set(payload.tool_name, payload.params);
  return new Promise((resolve) => {
    socket.timeout(ACK_TIMEOUT_MS).emit(type, payload, (err, response) => {
      const ack = err
        ? {
            ok: false,
            error: {
              code: "ack_timeout",
              message: `No answer to ${type} within ${ACK_TIMEOUT_MS / 1000} s`,
            },
          }
        : response;
      counters.received += err ? 0 : 1;
      log.add(err ? "local" : "in", "ack", { request_type: type, ...ack });
      renderCounters();
      showAck(type, ack, bubble);
      void refreshStatistics();
      resolve(ack);
    });
  });
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

function ask(content) {
  return send("message", { content }, conversation.addUser(content));
}

function discuss(topic) {
  return send(
    "start_conversation",
    { topic },
    conversation.addUser(topic, "You · discussion topic"),
  );
}

function cancelRun() {
  const active = conversation.activeMessage();
  return send("cancel", active ? { message_id: active.id } : {});
}

// ---------------------------------------------------------------- incoming

function handleEvent(type, ev) {
  switch (type) {
    case "connected":
      onConnected(ev);
      break;
    case "pong": {
      const started = pings.shift();
      const rtt = started === undefined ? undefined : performance.now() - started;
      if (rtt !== undefined) ui.stat.rtt.textContent = `${rtt.toFixed(1)} ms`;
      conversation.addNote(
        "ok",
        [
          "pong",
          rtt !== undefined
            ? h(
                "span",
                { class: "muted", dataset: { testid: "pong-rtt" } },
                ` · ${rtt.toFixed(1)} ms round trip`,
              )
            : null,
        ],
        "pong",
      );
      break;
    }
    case "error":
      if (ev.message_id) conversation.failed(ev);
      else
        conversation.addNote(
          "error",
          `${ev.request_type ? `${ev.request_type}: ` : ""}${ev.code} — ${ev.message}`,
          "error-note",
        );
      break;
    case "stream_start":
      conversation.streamStart(ev);
      break;
    case "stream_chunk":
      conversation.chunk(ev);
      break;
    case "speaker_change":
      conversation.speakerChange(ev);
      break;
    case "tool_start":
      conversation.toolStart(ev);
      break;
    case "tool_result":
      conversation.toolResult(ev, ev.message_id ? undefined : toolRequests.get(ev.tool_name));
      break;
    case "progress_update":
      if (ev.message_id) conversation.progress(ev);
      else projectNote(type, ev);
      break;
    case "stream_end":
      conversation.streamEnd(ev);
      break;
    case "cancelled":
      conversation.cancelled(ev);
      break;
    case "status":
      conversation.addNote("info", `Agent status: ${ev.status}`, "status-note");
      break;
    case "agent_response":
      conversation.fullAnswer(ev);
      break;
    case "joined_project":
      conversation.addNote(
        "ok",
        `Joined project ${ev.project_id} (${ev.members} member${ev.members === 1 ? "" : "s"})`,
        "joined-note",
      );
      break;
    case "left_project":
      conversation.addNote("info", `Left project ${ev.project_id}`, "left-note");
      break;
    case "user_feedback_response":
      conversation.addNote("ok", `Feedback received by project ${ev.project_id}`, "feedback-note");
      break;
    case "project_message":
    case "project_stage_update":
    case "project_status_change":
    case "agent_message":
      projectNote(type, ev);
      break;
    case "server_shutdown":
      conversation.addNote("error", `Server: ${ev.message}`, "shutdown-note");
      break;
    default: {
      // Another handler's event: shown as data rather than dropped.
      conversation.addCard(type, ownFields(ev), "event-card");
      break;
    }
  }
}

function projectNote(type, ev) {
  const data = ev.data ?? {};
  const text = data.content ?? data.message ?? data.stage ?? data.status ?? pretty(data);
  conversation.addNote(
    "project",
    [h("strong", {}, `${ev.project_id ?? "project"} · ${type}`), ` ${text}`],
    "project-note",
  );
}

// ---------------------------------------------------------------- rendering

function renderCounters() {
  ui.stat.sent.textContent = String(counters.sent);
  ui.stat.received.textContent = String(counters.received);
}

function renderActivity() {
  const streaming = conversation.isStreaming();
  const active = conversation.activeMessage();
  ui.typing.hidden = !streaming;
  ui.cancel.hidden = !(active && active.status === "streaming");
}

// ---------------------------------------------------------------- composer

async function loadHandlers() {
  ui.handlerDescription.textContent = "Loading handlers…";
  try {
    const response = await fetch(`${baseUrl()}/api/handlers`, {
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    handlers = new Map(body.handlers.map((d) => [d.type, d]));
  } catch (error) {
    handlers = new Map();
    ui.handlerDescription.textContent = `Could not load /api/handlers: ${error.message}. Use the raw JSON editor.`;
  }
  const previous = ui.handlerSelect.value;
  ui.handlerSelect.replaceChildren(
    ...[...handlers.values()].map((d) =>
      h("option", { value: d.type, title: d.description }, d.type),
    ),
  );
  ui.handlerSelect.dataset.loaded = "true";
  if (handlers.has(previous)) ui.handlerSelect.value = previous;
  else if (handlers.has("message")) ui.handlerSelect.value = "message";
  selectHandler();
}

function selectHandler() {
  const def = handlers.get(ui.handlerSelect.value);
  if (!def) {
    form = undefined;
    ui.schemaForm.replaceChildren();
    if (handlers.size > 0) ui.handlerDescription.textContent = "";
    return;
  }
  ui.handlerDescription.textContent = def.description;
  form = buildForm(def.type, def.schema);
  ui.schemaForm.replaceChildren(form.el);
  if (jsonMode) ui.jsonEditor.value = safePayloadJson();
}

function safePayloadJson() {
  try {
    return pretty(form ? form.read() : {});
  } catch {
    return "{}";
  }
}

function setMode(json) {
  if (json === jsonMode) return;
  if (json) ui.jsonEditor.value = safePayloadJson();
  else if (form) {
    try {
      form.write(JSON.parse(ui.jsonEditor.value || "{}"));
    } catch {
      /* keep the form as it was */
    }
  }
  jsonMode = json;
  // The hidden form's required inputs must not block sending raw JSON.
  ui.composer.noValidate = json;
  ui.jsonField.hidden = !json;
  ui.schemaForm.hidden = json;
  ui.modeForm.setAttribute("aria-pressed", String(!json));
  ui.modeJson.setAttribute("aria-pressed", String(json));
  (json ? ui.jsonEditor : ui.schemaForm.querySelector("input, textarea, select"))?.focus();
}

function readPayload() {
  if (jsonMode) return JSON.parse(ui.jsonEditor.value.trim() || "{}");
  return form ? form.read() : {};
}

async function submitComposer() {
  const type = ui.handlerSelect.value;
  if (!type) return;
  if (!socket?.connected) {
    showAck(type, { ok: false, error: { code: "not_connected", message: "Connect first" } });
    return;
  }
  let payload;
  try {
    payload = readPayload();
  } catch (error) {
    showAck(type, { ok: false, error: { code: "bad_input", message: error.message } });
    return;
  }
  let bubble;
  if (type === "message" && typeof payload.content === "string")
    bubble = conversation.addUser(payload.content);
  else if (type === "start_conversation" && payload.topic)
    bubble = conversation.addUser(payload.topic, "You · discussion topic");
  else if (type === "agent_query" && payload.query)
    bubble = conversation.addUser(payload.query, "You · agent query");
  const ack = await send(type, payload, bubble);
  if (ack.ok && !jsonMode && form) {
    // Clear the free text so the next message starts blank.
    for (const field of form.fields)
      if (["content", "query"].includes(field.name)) field.input.value = "";
  }
}

// ---------------------------------------------------------------- statistics

async function refreshStatistics() {
  if (document.hidden) return;
  try {
    const response = await fetch(`${baseUrl()}/ws/statistics`, {
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const stats = await response.json();
    ui.stat.active.textContent = String(stats.active_connections);
    ui.stat.total.textContent = String(stats.total_connections);
    ui.stat.messages.textContent = String(stats.total_messages);
    // Per-connection rows hold session ids, which only the operator may see (docs/security.md).
    ui.stat.connections.replaceChildren(
      ...(stats.connections_visible
        ? stats.connections.map((c) =>
            h(
              "tr",
              { class: c.id === socket?.id ? "mine" : undefined },
              h("td", { title: c.id }, shortId(c.id)),
              h("td", { title: c.session_id }, shortId(c.session_id)),
              h("td", {}, String(c.message_count)),
              h("td", {}, `${Math.round(c.uptime)} s`),
            ),
          )
        : [
            h(
              "tr",
              {},
              h(
                "td",
                { colspan: "4" },
                "Per-connection detail needs the API key (see docs/security.md)",
              ),
            ),
          ]),
    );
    ui.stat.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    ui.stat.updated.dataset.ok = "true";
  } catch (error) {
    ui.stat.updated.textContent = `statistics unavailable (${error.message})`;
    ui.stat.updated.dataset.ok = "false";
  }
}

const shortId = (id) => (String(id).length > 12 ? `${String(id).slice(0, 10)}…` : String(id));

// ---------------------------------------------------------------- wiring

function init() {
  ui.serverUrl.value = window.location.origin;
  try {
    ui.sessionId.value = localStorage.getItem(SESSION_KEY) ?? "";
  } catch {
    /* storage may be disabled */
  }
  setState("disconnected", "Disconnected");

  ui.connectionForm.addEventListener("submit", (event) => {
    event.preventDefault();
    connect();
  });
  ui.disconnect.addEventListener("click", disconnect);
  ui.serverUrl.addEventListener("change", () => {
    void loadHandlers();
    void refreshStatistics();
  });
  ui.cancel.addEventListener("click", () => void cancelRun());
  ui.clearChat.addEventListener("click", () => conversation.clear());

  ui.handlerSelect.addEventListener("change", selectHandler);
  ui.modeForm.addEventListener("click", () => setMode(false));
  ui.modeJson.addEventListener("click", () => setMode(true));
  enterToSend(ui.composer);
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitComposer();
  });

  const actions = {
    ping: () => send("ping", {}),
    ask: () => ask(ui.quickText.value.trim() || "Hello"),
    calculate: () =>
      send("tool_call", { tool_name: "calculator", params: { expression: "123 + 456" } }),
    join: () =>
      send("join_project", { project_id: ui.quickProject.value.trim() || "demo-project" }),
    discuss: () => discuss(ui.quickText.value.trim() || "The future of gateways"),
    cancel: () => cancelRun(),
  };
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => void actions[button.dataset.action]?.());
  }

  void loadHandlers();
  void refreshStatistics();
  setInterval(() => void refreshStatistics(), STATS_EVERY_MS);
  document.addEventListener("visibilitychange", () => void refreshStatistics());

  // A handle for the browser's devtools (and the browser tests).
  window.gatewayConsole = {
    get socket() {
      return socket;
    },
    conversation,
    connect,
    disconnect,
    send,
  };
  document.body.dataset.ready = "true";
}

init();
