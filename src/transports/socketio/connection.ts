import type { Connection } from "../../sessions/connection.js";
import { pauseSocket } from "../pause-reading.js";
import { rawWebSocket } from "./output-cap.js";
import type { GatewaySocket } from "./types.js";

/**
 * A Socket.IO socket as the session core sees it; its groups are its rooms.
 * A class, not an object of closures: one small object per connection.
 */
class SocketIoConnection implements Connection {
  readonly transport = "socketio" as const;

  constructor(private readonly socket: GatewaySocket) {}

  get id(): string {
    return this.socket.id;
  }

  send(type: string, event: object): void {
    this.socket.emit(type, event);
  }

  close(): void {
    this.socket.disconnect(true);
  }

  join(group: string): void {
    void this.socket.join(group);
  }

  leave(group: string): void {
    void this.socket.leave(group);
  }

  has(group: string): boolean {
    return this.socket.rooms.has(group);
  }

  onClose(callback: (reason: string) => void): void {
    this.socket.once("disconnect", callback);
  }

  pauseReading(ms: number): void {
    pauseSocket(rawWebSocket(this.socket), ms);
  }
}

export function socketConnection(socket: GatewaySocket): Connection {
  return new SocketIoConnection(socket);
}
