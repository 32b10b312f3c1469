import { GatewayError } from "../core/errors.js";
import type { Translator } from "../dialects/index.js";
import type { Connection } from "./connection.js";
import type { Receive } from "./dispatch.js";

/**
 * The one place where a dialect connection's events are translated, for
 * both transports. Outbound: everything the core sends to it (direct sends,
 * `resume` replays, and broadcasts, which the bus hands over as native
 * events) goes through `send` here. Inbound: every client event passes
 * `translatedReceive` before dispatch. Native connections are never wrapped.
 */
export function translatedConnection(conn: Connection, translator: Translator): Connection {
  return {
    id: conn.id,
    transport: conn.transport,
    send(type, event) {
      for (const frame of translator.outbound(type, event as Record<string, unknown>))
        conn.send(frame.type, frame.payload);
    },
    close: (reason) => conn.close(reason),
    join: (group) => conn.join(group),
    leave: (group) => conn.leave(group),
    has: (group) => conn.has(group),
    onClose: (callback) => conn.onClose(callback),
    pauseReading: (ms) => conn.pauseReading(ms),
  };
}

/** Client events in the dialect's shape → native events, and acks back through `translator.ack`. */
export function translatedReceive(receive: Receive, translator: Translator): Receive {
  const ack = translator.ack?.bind(translator);
  return (incoming) => {
    const { type, payload, reply, malformed } = incoming;
    if (malformed || typeof type !== "string") return receive(incoming);
    let native;
    try {
      native = translator.inbound(type, payload);
    } catch {
      // A translator is pure reshaping; whatever it cannot reshape is a bad payload, never a crash.
      const refused = new GatewayError("invalid_payload", `Cannot read this "${type}" message`);
      return receive({ ...incoming, malformed: refused });
    }
    const requestType = native.type;
    receive({
      ...incoming,
      type: requestType,
      payload: native.payload,
      ...(reply && ack ? { reply: (response) => reply(ack(requestType, response)) } : {}),
    });
  };
}
