import { socketUnder, type TurnCork } from "../turn-cork.js";
import type { GatewayServer } from "./types.js";

/** The engine.io socket as its server's "flush" event hands it over. */
interface EngineSocket {
  transport: { name: string; socket?: object };
}

/**
 * Holds each engine.io WebSocket's writes for the rest of the turn (see
 * TurnCork). engine.io writes every packet of a flush as its own frame, one
 * syscall each, and packets emitted after that wait for the write's callback
 * then go out one by one again; corked, a flush leaves in one `writev`.
 *
 * One listener on the engine for every socket: the server's "flush" event
 * fires just before a socket's buffered packets are handed to its transport,
 * so nothing is kept per connection. Polling transports are left alone (each
 * response is one write already).
 */
export function corkEngineFlushes(io: GatewayServer, cork: TurnCork): void {
  io.engine.on("flush", (socket: EngineSocket) => {
    const { transport } = socket;
    if (transport.name !== "websocket" || !transport.socket) return;
    const tcp = socketUnder(transport.socket);
    if (tcp) cork.hold(tcp);
  });
}
