import { h, ownFields, pretty } from "./dom.js";

/**
 * What the page shows for each server event, one small view per type. Each
 * gets the event and the page's context: {app, ui, conversation, cards, onConnected}.
 * A type not in the table is shown as a JSON card (showEvent).
 */
const VIEWS = {
  connected: (ev, c) => c.onConnected(ev),
  pong: (ev, c) => {
    const started = c.app.pings.shift();
    const rtt = started === undefined ? undefined : performance.now() - started;
    if (rtt !== undefined) c.ui.stat.rtt.textContent = `${rtt.toFixed(1)} ms`;
    const shown =
      rtt === undefined
        ? null
        : h(
            "span",
            { class: "muted", dataset: { testid: "pong-rtt" } },
            ` · ${rtt.toFixed(1)} ms round trip`,
          );
    c.conversation.addNote("ok", ["pong", shown], "pong");
  },
  error: (ev, c) => {
    if (ev.message_id) c.conversation.failed(ev);
    else
      c.conversation.addNote(
        "error",
        [
          `${ev.request_type ? `${ev.request_type}: ` : ""}${ev.code} — ${ev.message}`,
          ev.details === undefined
            ? null
            : h(
                "code",
                { class: "error-details", dataset: { testid: "error-details" } },
                detailsText(ev.details),
              ),
        ],
        "error-note",
      );
  },
  stream_start: (ev, c) => {
    c.conversation.streamStart(ev);
    if (ev.resumed) c.cards.resumed(ev.message_id);
  },
  // Both share the stream's seq with its chunks, so they go through the same ordering.
  custom_event: (ev, c) => c.conversation.chunk({ ...ev, type: "custom_event" }),
  state_update: (ev, c) => c.conversation.chunk({ ...ev, type: "state_update" }),
  run_interrupted: (ev, c) => {
    c.conversation.interrupted(ev);
    c.cards.show(ev);
  },
  stream_chunk: (ev, c) => c.conversation.chunk(ev),
  speaker_change: (ev, c) => c.conversation.speakerChange(ev),
  tool_start: (ev, c) => c.conversation.toolStart(ev),
  // A direct tool call's result is shown with the parameters this page sent.
  tool_result: (ev, c) =>
    c.conversation.toolResult(ev, ev.message_id ? undefined : c.app.toolRequests.get(ev.tool_name)),
  progress_update: (ev, c) => {
    if (ev.message_id) c.conversation.progress(ev);
    else projectNote("progress_update", ev, c);
  },
  stream_end: (ev, c) => c.conversation.streamEnd(ev),
  cancelled: (ev, c) => c.conversation.cancelled(ev),
  status: (ev, c) => c.conversation.addNote("info", `Agent status: ${ev.status}`, "status-note"),
  agent_response: (ev, c) => c.conversation.fullAnswer(ev),
  joined_project: (ev, c) =>
    c.conversation.addNote(
      "ok",
      `Joined project ${ev.project_id} (${ev.members} member${ev.members === 1 ? "" : "s"})`,
      "joined-note",
    ),
  left_project: (ev, c) =>
    c.conversation.addNote("info", `Left project ${ev.project_id}`, "left-note"),
  user_feedback_response: (ev, c) =>
    c.conversation.addNote("ok", `Feedback received by project ${ev.project_id}`, "feedback-note"),
  project_message: (ev, c) => projectNote("project_message", ev, c),
  project_stage_update: (ev, c) => projectNote("project_stage_update", ev, c),
  project_status_change: (ev, c) => projectNote("project_status_change", ev, c),
  agent_message: (ev, c) => projectNote("agent_message", ev, c),
  server_shutdown: (ev, c) =>
    c.conversation.addNote("error", `Server: ${ev.message}`, "shutdown-note"),
};

/** Shows one server event. The type comes from the server: only the table's own keys are views. */
export function showEvent(type, ev, context) {
  if (Object.hasOwn(VIEWS, type)) VIEWS[type](ev, context);
  // Another handler's event: shown as data rather than dropped.
  else context.conversation.addCard(type, ownFields(ev), "event-card");
}

function projectNote(type, ev, c) {
  const data = ev.data ?? {};
  const text = data.content ?? data.message ?? data.stage ?? data.status ?? pretty(data);
  c.conversation.addNote(
    "project",
    [h("strong", {}, `${ev.project_id ?? "project"} · ${type}`), ` ${text}`],
    "project-note",
  );
}

/** A refusal's details in one line: the validator's findings as `path message`, anything else as JSON. */
function detailsText(details) {
  const findings = Array.isArray(details) ? details : [];
  const readable = findings.every(
    (f) => typeof f?.path === "string" && typeof f?.message === "string",
  );
  if (findings.length > 0 && readable)
    return findings.map((f) => `${f.path} ${f.message}`).join("; ");
  return JSON.stringify(details);
}
