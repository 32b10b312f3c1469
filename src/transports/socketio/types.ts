import type { Server, Socket } from "socket.io";
import type { Admitted } from "../../sessions/admission.js";

/**
 * Any event name may arrive: the handler registry, not the type system,
 * decides which are known (unknown_type), and the last argument may be an ack.
 */
export interface ClientToServerEvents {
  [type: string]: (...args: unknown[]) => void;
}

/** Every server event is one object carrying its own `type` and `timestamp` (core/protocol.ts). */
export interface ServerToClientEvents {
  [type: string]: (event: object) => void;
}

/** Questions one node asks the others (Fanout.askPeers); each answers through the ack. */
export interface InterServerEvents {
  [name: string]: (request: unknown, answer: (reply: unknown) => void) => void;
}

export interface SocketData {
  admitted: Admitted;
}

export type GatewayServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
export type GatewaySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
