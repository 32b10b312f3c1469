import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port.js";

const REDIS_SERVER = "/usr/bin/redis-server";
const START_TIMEOUT_MS = 5000;

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills the server and waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  restart(): Promise<void>;
}

/**
 * A throwaway redis-server of our own on a free loopback port, never the
 * machine's shared one: tests may stop it, restart it and flush it freely.
 */
export async function startRedisServer(): Promise<PrivateRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), "gw-redis-"));
  let port = await freePort();
  let child: ChildProcess;
  // Another process may grab the port between probing and binding: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      child = await launch(port, dir);
      break;
    } catch (error) {
      if (attempt === 3) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }
  let running: ChildProcess | undefined = child;

  const stop = async () => {
    const current = running;
    running = undefined;
    if (current) await kill(current);
    await rm(dir, { recursive: true, force: true });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      await mkdir(dir, { recursive: true });
      running = await launch(port, dir);
    },
  };
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--loglevel",
      "warning",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) =>
      reject(new Error(`redis-server exited with ${code} on port ${port}: ${stderr.trim()}`)),
    ),
  );
  exited.catch(() => {});
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await Promise.race([ping(port), exited])) return child;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await kill(child);
  throw new Error(`redis-server did not answer PING on port ${port} in ${START_TIMEOUT_MS} ms`);
}

/** True if something on the port answers PING like Redis. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
