import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  io as connectClient,
  type Socket as ClientSocket,
  type ManagerOptions,
  type SocketOptions,
} from "socket.io-client";
import { loadConfig } from "../../src/core/config.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/gateway.js";
import type { AckResponse } from "../../src/core/protocol.js";
import type { TestClient } from "./clients.js";

export interface RunningGateway {
  gateway: Gateway;
  url: string;
  close(): Promise<void>;
}

/** A real gateway on an ephemeral loopback port, quiet unless a test asks for logs. */
export async function startGateway(
  env: Record<string, string> = {},
  options: Omit<GatewayOptions, "config"> = {},
): Promise<RunningGateway> {
  const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "error", ...env });
  const gateway = await createGateway({ config, ...options });
  const address = await gateway.listen();
  const url = `http://127.0.0.1:${address.port}`;
  return { gateway, url, close: () => gateway.close() };
}

export interface Connected {
  socket: ClientSocket;
  connected: {
    connection_id: string;
    session_id: string;
    heartbeat: { interval_ms: number; timeout_ms: number };
  };
}

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Connects with the real client and waits for the server's `connected` event. */
export function connect(
  url: string,
  auth: Record<string, unknown> = {},
  options: ClientOptions = {},
): Promise<Connected> {
  const socket = connectClient(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth,
    ...options,
  });
  return new Promise((resolve, reject) => {
    socket.once("connected", (connected: Connected["connected"]) => resolve({ socket, connected }));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** The `err.data` of a refused handshake. */
export async function refusal(
  url: string,
  auth: Record<string, unknown> = {},
  options: ClientOptions = {},
) {
  try {
    const { socket } = await connect(url, auth, options);
    socket.close();
  } catch (error) {
    return (error as Error & { data: { code: string; message: string } }).data;
  }
  throw new Error("the connection was accepted");
}

export function nextEvent<T = Record<string, unknown>>(
  socket: TestClient,
  type: string,
): Promise<T> {
  return new Promise((resolve) => socket.once(type, (payload) => resolve(payload)));
}

export function request(socket: TestClient, type: string, payload?: unknown): Promise<AckResponse> {
  return (
    payload === undefined ? socket.emitWithAck(type) : socket.emitWithAck(type, payload)
  ) as Promise<AckResponse>;
}

/** Records every event a client receives, in order. */
export function recordEvents(
  socket: TestClient,
): Array<{ type: string; payload: Record<string, unknown> }> {
  const events: Array<{ type: string; payload: Record<string, unknown> }> = [];
  socket.onAny((type: string, payload: Record<string, unknown>) => events.push({ type, payload }));
  return events;
}

/** An API key for tests that read what only the operator may see (docs/security.md). */
export const OPERATOR_KEY = "operator-test-api-key-0123456789";
export const asOperator = { headers: { authorization: `Bearer ${OPERATOR_KEY}` } };

/**
 * A gateway serving the shipped handlers plus one more file, as a handler
 * author adds one. The copy sits at the project root so the handlers'
 * "../src/…" imports resolve as in handlers/; it is removed on close.
 */
export async function startGatewayWithHandler(
  fileName: string,
  source: string,
): Promise<RunningGateway> {
  const handlersDir = await mkdtemp(path.join(process.cwd(), ".handlers-"));
  try {
    await cp(path.resolve("handlers"), handlersDir, { recursive: true });
    await writeFile(path.join(handlersDir, fileName), source);
    const running = await startGateway({}, { handlersDir });
    return {
      ...running,
      close: async () => {
        await running.close();
        await rm(handlersDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(handlersDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A gateway serving the shipped graphs plus the named files of
 * test/fixtures/third-party-graphs, as a LangGraph developer drops a graph
 * into graphs/. The copy sits at the project root so "../src/…" imports
 * resolve as in graphs/; it is removed on close.
 */
export async function startGatewayWithGraphs(
  fixtures: string[],
  env: Record<string, string> = {},
  options: Omit<GatewayOptions, "config" | "graphsDir"> = {},
): Promise<RunningGateway & { graphsDir: string }> {
  const graphsDir = await mkdtemp(path.join(process.cwd(), ".graphs-"));
  try {
    await cp(path.resolve("graphs"), graphsDir, { recursive: true });
    for (const name of fixtures) {
      await cp(path.resolve("test/fixtures/third-party-graphs", name), path.join(graphsDir, name));
    }
    const running = await startGateway(env, { ...options, graphsDir });
    return {
      ...running,
      graphsDir,
      close: async () => {
        await running.close();
        await rm(graphsDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(graphsDir, { recursive: true, force: true });
    throw error;
  }
}
