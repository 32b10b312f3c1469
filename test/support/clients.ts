import WebSocket from "ws";
import type { AckResponse } from "../../src/core/protocol.js";
import { connect, type Connected } from "./gateway.js";

/** Both transports, for suites that must hold over each: `for (const transport of TRANSPORTS)`. */
export const TRANSPORTS = ["socketio", "ws"] as const;
export type Transport = (typeof TRANSPORTS)[number];

type AnyListener = (type: string, payload: Record<string, unknown>) => void;
/** Any payload shape the test expects; the frame is handed over as it came. */
type Listener = (payload: never) => void;
type FrameListener = (payload: Record<string, unknown>) => void;

/**
 * The part of socket.io-client's Socket the suites use, so one test body
 * drives either transport. socket.io-client's Socket fits it as it is.
 */
export interface TestClient {
  readonly connected: boolean;
  emit(type: string, ...args: unknown[]): unknown;
  emitWithAck(type: string, ...args: unknown[]): Promise<unknown>;
  on(type: string, listener: Listener): unknown;
  once(type: string, listener: Listener): unknown;
  off(type: string, listener?: Listener): unknown;
  onAny(listener: AnyListener): unknown;
  offAny(listener?: AnyListener): unknown;
  close(): unknown;
  disconnect(): unknown;
}

export interface ConnectedClient {
  socket: TestClient;
  connected: Connected["connected"];
}

/**
 * Connects over the named transport and waits for `connected`. A refusal
 * rejects with an Error whose `data` is `{code, message}`: Socket.IO's
 * `connect_error`, or the plain endpoint's HTTP refusal body.
 */
export async function connectAs(
  transport: Transport,
  url: string,
  auth: { session_id?: string; token?: string; graph?: string; stream_modes?: string[] } = {},
  { path = "/ws", headers }: { path?: string; headers?: Record<string, string> } = {},
): Promise<ConnectedClient> {
  if (transport === "socketio") return connect(url, auth, headers ? { extraHeaders: headers } : {});
  const query = new URLSearchParams();
  if (auth.session_id !== undefined && path === "/ws") query.set("session_id", auth.session_id);
  if (auth.token !== undefined) query.set("token", auth.token);
  if (auth.graph !== undefined) query.set("graph", auth.graph);
  if (auth.stream_modes !== undefined) query.set("stream_modes", auth.stream_modes.join(","));
  const search = query.size > 0 ? `?${query}` : "";
  const client = new PlainClient(
    new WebSocket(`${url.replace(/^http/, "ws")}${path}${search}`, headers ? { headers } : {}),
  );
  return { socket: client, connected: await client.ready };
}

/** The `{code, message}` of a refused connection, over either transport. */
export async function refusalAs(
  transport: Transport,
  url: string,
  auth: { session_id?: string; token?: string; graph?: string; stream_modes?: string[] } = {},
): Promise<{ code: string; message: string }> {
  try {
    const { socket } = await connectAs(transport, url, auth);
    socket.close();
  } catch (error) {
    return (error as Error & { data: { code: string; message: string } }).data;
  }
  throw new Error("the connection was accepted");
}

/**
 * How the server ended a connection: Socket.IO's disconnect reason, or the
 * plain WebSocket close code and reason ("1008 token_expired").
 */
export function closeOf(client: TestClient): Promise<string> {
  if (client instanceof PlainClient)
    return new Promise((resolve) =>
      client.ws.once("close", (code: number, reason: Buffer) =>
        resolve(`${code} ${reason.toString()}`),
      ),
    );
  return new Promise((resolve) => client.once("disconnect", (reason: string) => resolve(reason)));
}

/** A plain WebSocket client speaking the gateway's JSON frames, shaped like socket.io-client. */
export class PlainClient implements TestClient {
  readonly ready: Promise<Connected["connected"]>;
  /** The HTTP status of a refused upgrade. */
  status: number | undefined;
  private readonly anyListeners = new Set<AnyListener>();
  private readonly listeners = new Map<string, Set<FrameListener>>();
  private readonly acks = new Map<number, (reply: AckResponse) => void>();
  private nextRequestId = 1;

  constructor(readonly ws: WebSocket) {
    this.ready = new Promise((resolve, reject) => {
      ws.on("unexpected-response", (_req, res) => {
        this.status = res.statusCode;
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => {
          const data = (JSON.parse(body) as { error: { code: string; message: string } }).error;
          reject(Object.assign(new Error(data.message), { data }));
        });
      });
      ws.on("error", reject);
      this.once("connected", (payload: Connected["connected"]) => resolve(payload));
    });
    ws.on("message", (data: Buffer) =>
      this.receive(JSON.parse(data.toString()) as Record<string, unknown>),
    );
  }

  get connected(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a frame as the gateway's own clients do: `type` beside the payload's fields. */
  emit(type: string, ...args: unknown[]): this {
    const ack =
      typeof args.at(-1) === "function" ? (args.pop() as (r: AckResponse) => void) : undefined;
    const payload = (args[0] ?? {}) as Record<string, unknown>;
    const frame: Record<string, unknown> = { ...payload, type };
    if (ack) {
      const id = this.nextRequestId++;
      this.acks.set(id, ack);
      frame["request_id"] = id;
    }
    this.ws.send(JSON.stringify(frame));
    return this;
  }

  emitWithAck(type: string, ...args: unknown[]): Promise<AckResponse> {
    return new Promise((resolve) => this.emit(type, ...args, resolve));
  }

  /** A frame as written, for tests of the framing itself. */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  on(type: string, listener: Listener): this {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as FrameListener);
    return this;
  }

  once(type: string, listener: Listener): this {
    const once: FrameListener = (payload) => {
      this.off(type, once);
      (listener as FrameListener)(payload);
    };
    return this.on(type, once);
  }

  off(type: string, listener?: Listener): this {
    if (listener) this.listeners.get(type)?.delete(listener as FrameListener);
    else this.listeners.delete(type);
    return this;
  }

  onAny(listener: AnyListener): this {
    this.anyListeners.add(listener);
    return this;
  }

  offAny(listener?: AnyListener): this {
    if (listener) this.anyListeners.delete(listener);
    else this.anyListeners.clear();
    return this;
  }

  close(): this {
    this.ws.close();
    return this;
  }

  disconnect(): this {
    return this.close();
  }

  private receive(frame: Record<string, unknown>): void {
    const type = String(frame["type"]);
    if (type === "ack") {
      const id = frame["request_id"] as number;
      const reply = frame["ok"]
        ? { ok: true, data: frame["data"] }
        : { ok: false, error: frame["error"] };
      this.acks.get(id)?.(reply as AckResponse);
      this.acks.delete(id);
      return;
    }
    for (const listener of [...this.anyListeners]) listener(type, frame);
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(frame);
  }
}
