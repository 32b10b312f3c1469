import type { Connection } from "../../sessions/connection.js";
import { pauseSocket } from "../pause-reading.js";
import { rawWebSocket } from "./output-cap.js";
import type { GatewaySocket } from "./types.js";

/** A Socket.IO socket as the session core sees it; its groups are its rooms. */
export function socketConnection(socket: GatewaySocket): Connection {
  return {
    id: socket.id,
    transport: "socketio",
    send: (type, event) => socket.emit(type, event),
    close: () => socket.disconnect(true),
    join: (group) => void socket.join(group),
    leave: (group) => void socket.leave(group),
    has: (group) => socket.rooms.has(group),
    onClose: (callback) => socket.once("disconnect", (reason) => callback(reason)),
    pauseReading: (ms) => pauseSocket(rawWebSocket(socket), ms),
  };
}
