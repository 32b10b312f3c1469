import { PlainConnection } from "./connection-plain.js";
import { SocketIoConnection } from "./connection-socketio.js";

export { isLocalFailure } from "./connection-base.js";

/** The transports the connection bar offers, by the value of its select. */
const TRANSPORTS = new Map([
  ["socketio", SocketIoConnection],
  ["ws", PlainConnection],
]);

export const DEFAULT_TRANSPORT = "socketio";

export const isTransport = (name) => TRANSPORTS.has(name);

/** A client over the chosen transport, not yet connected: add listeners, then connect(). */
export function createConnection(transport, options) {
  const Implementation = TRANSPORTS.get(transport) ?? TRANSPORTS.get(DEFAULT_TRANSPORT);
  return new Implementation(options);
}
