import type { AckResponse } from "../core/protocol.js";

/**
 * What one client receives for one native event. Over Socket.IO it is emitted
 * as event `type` with `payload`; over plain WebSocket `payload` is the JSON
 * text of the frame, so it carries its own `type` in every dialect that
 * travels over plain WebSocket.
 */
export interface Frame {
  type: string;
  payload: Record<string, unknown>;
}

/** A client message translated into the native event a handler answers. */
export interface NativeMessage {
  type: string;
  payload: unknown;
}

/**
 * One connection's translator: dialects with per-connection state (the
 * turns of a group chat, the text segments of the Flask chat) hold it here,
 * so runs, handlers and the core keep speaking the one native protocol.
 */
export interface Translator {
  /** A client message in the dialect's shape → the native event to dispatch. */
  inbound(type: string, payload: unknown): NativeMessage;
  /** A native server event (its payload already has `type` and `timestamp`) → what this client gets. */
  outbound(type: string, payload: Record<string, unknown>): Frame[];
  /** The ack a Socket.IO client of this dialect gets for a request; the native one when absent. */
  ack?(requestType: string, response: AckResponse): AckResponse;
}

export interface TranslatorContext {
  /** The connection's session: some dialects repeat it in every frame. */
  sessionId: string;
}

export type DialectTransport = "socket.io" | "websocket";

export interface Dialect {
  id: string;
  describe: string;
  /** The transports its clients use; a dialect whose frames need an event name is Socket.IO only. */
  transports: readonly DialectTransport[];
  /** Plain-WebSocket paths the protocol fixes, which select the dialect without a query parameter. */
  paths: readonly string[];
  createTranslator(context: TranslatorContext): Translator;
}

/** Inbound for the dialects whose client messages are already native. */
export const asNative = (type: string, payload: unknown): NativeMessage => ({ type, payload });

/** The native protocol, and the part of every dialect it does not change. */
export const passThrough: Translator = {
  inbound: asNative,
  outbound: (type, payload) => [{ type, payload }],
};
