import type { Dialect, Frame, NativeMessage, Translator } from "./dialect.js";
import { isRecord, numberField, stringField } from "./frame-fields.js";

/** Longest tool result quoted in a status line; the whole result is in the run's answer. */
const STATUS_RESULT_CHARS = 200;

const response = (payload: Record<string, unknown>): Frame => ({ type: "chat_response", payload });
const status = (status: string, message: string): Frame =>
  response({ type: "agent_status", content: { status, message } });

/**
 * The Flask-SocketIO chat protocol: answers are `chat_response` events of
 * kind text, agent_status, stop or error. Its client appends one bubble per
 * `text`, so the text of a run goes out in segments: whatever streamed
 * between two status lines, whole, rather than one bubble per token.
 */
class FlaskChatTranslator implements Translator {
  /** Text streamed since the last status line, per run. */
  private readonly segments = new Map<string, string>();

  inbound(type: string, payload: unknown): NativeMessage {
    if (type !== "chat_message" || !isRecord(payload) || !Array.isArray(payload["history"]))
      return { type, payload };
    return { type, payload: { ...payload, history: payload["history"].map(historyItem) } };
  }

  outbound(type: string, payload: Record<string, unknown>): Frame[] {
    const messageId = stringField(payload, "message_id");
    if (messageId === undefined) return this.notOfARun(type, payload);
    switch (type) {
      case "stream_chunk":
        this.segments.set(
          messageId,
          (this.segments.get(messageId) ?? "") + (stringField(payload, "content") ?? ""),
        );
        return [];
      case "progress_update":
        return [...this.flush(messageId), ...progress(payload)];
      case "tool_start":
        return [
          ...this.flush(messageId),
          status("tool_start", `Calling ${stringField(payload, "tool_name") ?? "a tool"}`),
        ];
      case "tool_result":
        return [...this.flush(messageId), toolResult(payload)];
      case "stream_end":
        return this.end(messageId, { message_id: messageId });
      case "cancelled":
        return this.end(messageId, { message_id: messageId, reason: payload["reason"] });
      case "error":
        return [...this.end(messageId), ...errorFrames(payload)];
      default:
        // stream_start and speaker_change: the progress line that follows names the step.
        return [];
    }
  }

  private notOfARun(type: string, payload: Record<string, unknown>): Frame[] {
    return type === "error" ? errorFrames(payload) : [{ type, payload }];
  }

  private flush(messageId: string): Frame[] {
    const text = (this.segments.get(messageId) ?? "").replace(/^\n\n/, "");
    this.segments.delete(messageId);
    return text.trim().length === 0 ? [] : [response({ type: "text", content: { data: text } })];
  }

  private end(messageId: string, stop?: Record<string, unknown>): Frame[] {
    const frames = this.flush(messageId);
    if (stop) frames.push(response({ type: "stop", content: stop }));
    return frames;
  }
}

/**
 * What its page keeps per bubble (ChatUI's message objects): its `appendMsg`
 * adds `_id`, `createdAt`, `position` and `hasTime`, and the page sends that
 * list whole as `history`. Only fields of those objects are read.
 */
const PAGE_MESSAGE_KEYS = new Set([
  "_id",
  "type",
  "content",
  "position",
  "createdAt",
  "hasTime",
  "user",
  "status",
]);
/** Maps, so a `type` or `position` such as `constructor` finds nothing. */
const PAGE_CONTENT_KEY = new Map([
  ["text", "text"],
  ["image", "picUrl"],
]);
const ROLE_OF_POSITION = new Map([
  ["right", "user"],
  ["left", "assistant"],
  ["center", "system"],
]);

/**
 * One of its page's bubbles → a native history item `{role, content}`;
 * anything else stays as it came, for the native schema to accept or refuse
 * by name. An image bubble keeps no text: history is checked, never replayed.
 */
function historyItem(item: unknown): unknown {
  if (!isRecord(item) || !Object.keys(item).every((key) => PAGE_MESSAGE_KEYS.has(key))) return item;
  const { type, content, position = "left" } = item;
  const contentKey = typeof type === "string" ? PAGE_CONTENT_KEY.get(type) : undefined;
  const role = typeof position === "string" ? ROLE_OF_POSITION.get(position) : undefined;
  if (!contentKey || !role || !isRecord(content)) return item;
  const keys = Object.keys(content);
  if (keys.length !== 1 || keys[0] !== contentKey) return item;
  const text = type === "text" ? content["text"] : "";
  return { role, content: text };
}

function progress(payload: Record<string, unknown>): Frame[] {
  const data = payload["data"];
  const stage = isRecord(data) ? stringField(data, "stage") : undefined;
  if (!isRecord(data) || stage === undefined || stage === "done") return [];
  const step = (numberField(data, "completed") ?? 0) + 1;
  const total = numberField(data, "total");
  return [status(stage, `${stage}: step ${step}${total === undefined ? "" : ` of ${total}`}`)];
}

function toolResult(payload: Record<string, unknown>): Frame {
  const result = JSON.stringify(payload["result"]) ?? "nothing";
  const quoted =
    result.length > STATUS_RESULT_CHARS ? `${result.slice(0, STATUS_RESULT_CHARS)}…` : result;
  return status("tool_result", `${stringField(payload, "tool_name") ?? "tool"} returned ${quoted}`);
}

/** Its server also emits `error {message}` for a failed request, which its page shows. */
function errorFrames(payload: Record<string, unknown>): Frame[] {
  const content = { code: payload["code"], message: payload["message"] };
  return [response({ type: "error", content }), { type: "error", payload }];
}

export const flaskChat: Dialect = {
  id: "flask-chat",
  describe:
    "The Flask-SocketIO chat protocol: chat_message in; chat_response {type: text | agent_status | stop | error, content} out, text in whole segments.",
  transports: ["socket.io"],
  paths: [],
  createTranslator: () => new FlaskChatTranslator(),
};
