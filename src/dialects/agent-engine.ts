import type { Dialect, Frame, Translator } from "./dialect.js";
import { asNative } from "./dialect.js";

/**
 * The agent-engine protocol (`/ws/agent`): the native names, except that its
 * `error` carries the text as `error`, and that `cancel` with nothing running
 * is answered `cancelled` (its client waits for `cancelled` either way).
 */
const NOTHING_RUNNING = "nothing_running";

function nothingToCancel(payload: Record<string, unknown>): boolean {
  return payload["request_type"] === "cancel" && payload["code"] === "not_found";
}

function outbound(type: string, payload: Record<string, unknown>): Frame[] {
  if (type !== "error") return [{ type, payload }];
  if (nothingToCancel(payload)) {
    const cancelled = {
      type: "cancelled",
      timestamp: payload["timestamp"],
      message_id: null,
      partial_content: "",
      reason: NOTHING_RUNNING,
    };
    return [{ type: "cancelled", payload: cancelled }];
  }
  return [{ type, payload: { ...payload, error: payload["message"] } }];
}

const translator: Translator = {
  inbound: asNative,
  outbound,
  ack(requestType, response) {
    if (requestType === "cancel" && !response.ok && response.error.code === "not_found")
      return { ok: true, data: { cancelled: false, reason: NOTHING_RUNNING } };
    return response;
  },
};

export const agentEngine: Dialect = {
  id: "agent-engine",
  describe:
    "The agent-engine protocol: native names; `error` also carries `error` (the text); `cancel` with nothing running gets `cancelled {reason: nothing_running}`.",
  transports: ["websocket", "socket.io"],
  paths: ["/ws/agent"],
  createTranslator: () => translator,
};
