import type { Static, TObject, TProperties, TSchema } from "@sinclair/typebox";
import type { AckResponse, ServerEvent, ServerEventType } from "../core/protocol.js";
import type { WireError } from "../core/errors.js";
import type { HandlerDefinition } from "../registry/define-handler.js";
import type { HandlerModules } from "./handler-modules.js";

/**
 * Typed Socket.IO client events, for `io<ServerToClientEvents, ClientToServerEvents>(url)`.
 * Type-only: importing this costs a client nothing at run time. The events
 * are the handlers in handlers/ (listed by scripts/write-client-handlers.ts),
 * keyed by each definition's `type`; the server events include those a
 * handler declares by merging into ServerEventMap.
 */
type Definitions = HandlerModules[number]["default"];
type Handlers = { [H in Definitions as H["type"]]: H };

/** A property the validator fills in (WithDefault in src/handler-kit.ts) is optional for the client. */
type DefaultedKeys<P extends TProperties> = {
  [K in keyof P]: P[K] extends { default: unknown } ? K : never;
}[keyof P];

type Flatten<T> = { [K in keyof T]: T[K] };

type WithOptional<T, D> = Flatten<
  { [K in keyof T as K extends D ? never : K]: T[K] } & {
    [K in keyof T as K extends D ? K : never]?: T[K];
  }
>;

type ClientInput<S extends TSchema> =
  Static<S> extends infer T
    ? S extends TObject<infer P>
      ? WithOptional<T, DefaultedKeys<P>>
      : T
    : never;

type PayloadOf<H> =
  H extends HandlerDefinition<infer S extends TSchema, unknown, string> ? ClientInput<S> : never;
type DataOf<H> = H extends HandlerDefinition<TSchema, infer R, string> ? Awaited<R> : never;

/** What an ack carries for event `K`: the handler's result, or an error. */
export type Ack<K extends ClientEventType> =
  { ok: true; data: DataOf<Handlers[K]> } | { ok: false; error: WireError };

export type ClientEventType = keyof Handlers;
export type ClientEventPayload<K extends ClientEventType> = PayloadOf<Handlers[K]>;

export type ClientToServerEvents = {
  [K in ClientEventType]: (payload: ClientEventPayload<K>, ack: (response: Ack<K>) => void) => void;
};

export type ServerToClientEvents = {
  [K in ServerEventType]: (event: ServerEvent<K>) => void;
};

export type { AckResponse, ServerEvent, ServerEventType, WireError };
