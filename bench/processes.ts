import { cpuMs } from "./proc-stats.js";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerCommand } from "./server-ipc.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.dirname(benchDir);

function limit(flag: "-n" | "-Hn"): number {
  const out = execFileSync("bash", ["-c", `ulimit ${flag}`], { encoding: "utf8" }).trim();
  return out === "unlimited" ? Number.POSITIVE_INFINITY : Number(out);
}

/**
 * How many descriptors a child may open: each connection is one on each side.
 * A child whose soft limit is too low is started through bash with a raised
 * one, up to the hard limit (raising that needs root, so it is only reported).
 */
export function fileLimitFor(needed: number): { wrap: number | undefined; warning?: string } {
  const soft = limit("-n");
  if (soft >= needed) return { wrap: undefined };
  const hard = limit("-Hn");
  if (hard >= needed) return { wrap: needed };
  return {
    wrap: Number.isFinite(hard) ? hard : undefined,
    warning: `ulimit -Hn is ${hard}, below the ${needed} descriptors this scenario needs`,
  };
}

/**
 * The entries whose code is measured run compiled, as `npm start` runs the
 * gateway (`node dist/src/main.js`), built once per runner with tsc
 * (tsconfig.bench.json: src, handlers and these entries, into dist/). The
 * load clients and runners are not measured and stay under tsx.
 */
const COMPILED = new Set(["gateway-server.ts", "raw-server.ts", "in-process.ts"]);
let built = false;

function compiledEntry(file: string): string {
  if (!built) {
    execFileSync(path.join(repoRoot, "node_modules/.bin/tsc"), ["-p", "tsconfig.bench.json"], {
      cwd: repoRoot,
      stdio: "inherit",
    });
    built = true;
  }
  return path.join(repoRoot, "dist/bench", file.replace(/\.ts$/, ".js"));
}

/**
 * Starts a bench entry with an IPC channel, compiled or under tsx, through bash when the
 * fd limit must rise.
 */
export function spawnNode(
  file: string,
  args: string[],
  env: Record<string, string>,
  options: { fds?: number; nodeFlags?: string[] } = {},
): ChildProcess {
  const entry = COMPILED.has(file)
    ? [compiledEntry(file)]
    : ["--import", "tsx", path.join(benchDir, file)];
  const nodeArgs = [...(options.nodeFlags ?? []), ...entry, ...args];
  const { wrap, warning } = fileLimitFor(options.fds ?? 1024);
  if (warning) console.warn(`warning: ${warning}`);
  const stdio: ["ignore", "inherit", "inherit", "ipc"] = ["ignore", "inherit", "inherit", "ipc"];
  const childEnv = { ...process.env, ...env };
  if (wrap === undefined) {
    return spawn(process.execPath, nodeArgs, { cwd: repoRoot, env: childEnv, stdio });
  }
  // exec keeps the pid (so /proc/<pid> is the node process) and the IPC descriptor.
  const quoted = [process.execPath, ...nodeArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
  return spawn("bash", ["-c", `ulimit -n ${wrap} && exec ${quoted.join(" ")}`], {
    cwd: repoRoot,
    env: childEnv,
    stdio,
  });
}

export interface ServerProcess {
  pid: number;
  url: string;
  command(cmd: ServerCommand["cmd"]): Promise<unknown>;
  /** null while the process runs. */
  exitCode(): number | null;
  stop(): Promise<void>;
}

/** Starts a benchmark server entry and waits for it to report its port. */
export function startServer(
  file: "gateway-server.ts" | "raw-server.ts" | "peer-langgraph-server.ts",
  env: Record<string, string>,
  options: { fds?: number; nodeFlags?: string[]; startTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  // WORKERS=N starts N + 1 processes, each loading the agents: slow on a shared machine
  // (under tsx with a load average of 20 on 2 cores, one gateway took over 30 s).
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const child = spawnNode(file, [], env, {
    fds: options.fds,
    nodeFlags: ["--expose-gc", ...(options.nodeFlags ?? [])],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} did not start within ${startTimeoutMs / 1000} s`));
    }, startTimeoutMs);
    child.once("exit", (code) =>
      reject(new Error(`${file} exited with ${code} before it was ready`)),
    );
    child.once("message", (message: { type: string; port: number }) => {
      clearTimeout(timer);
      const pending: Array<(data: unknown) => void> = [];
      child.on("message", (m: { type: string; data: unknown }) => {
        if (m.type === "reply") pending.shift()?.(m.data);
      });
      resolve({
        pid: child.pid as number,
        url: `http://127.0.0.1:${message.port}`,
        command(cmd) {
          return new Promise((done) => {
            pending.push(done);
            child.send({ cmd });
          });
        },
        exitCode: () => child.exitCode ?? (child.signalCode ? -1 : null),
        async stop() {
          if (child.exitCode !== null) return;
          child.send({ cmd: "stop" });
          const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/**
 * Runs a load client with one task; `onCheckpoint` runs at each pause the client makes.
 * `file` is the client entry: load-client.ts (Socket.IO, plain WebSocket) or peer-load-client.ts (SSE).
 */
export function runClient(
  task: object,
  onCheckpoint: (name: string, figures: Record<string, number>) => Promise<void> | void,
  fds = 1024,
  file: "load-client.ts" | "peer-load-client.ts" = "load-client.ts",
): Promise<Record<string, number>> {
  return runChild(file, task, onCheckpoint, fds);
}

/** Runs LangGraph in a process of its own, with no server (bench/in-process.ts). */
export function runInProcess(task: object): Promise<Record<string, number>> {
  return runChild("in-process.ts", task, () => {});
}

function runChild(
  file: string,
  task: object,
  onCheckpoint: (name: string, figures: Record<string, number>) => Promise<void> | void,
  fds = 1024,
): Promise<Record<string, number>> {
  const child = spawnNode(file, [JSON.stringify(task)], {}, { fds });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on(
      "message",
      (m: { type: string; name: string; figures: Record<string, number>; message: string }) => {
        if (m.type === "checkpoint") {
          void Promise.resolve(onCheckpoint(m.name, m.figures)).then(() =>
            child.send({ type: "continue" }),
          );
        } else if (m.type === "done") {
          settled = true;
          resolve(m.figures);
        } else if (m.type === "failed") {
          settled = true;
          reject(new Error(`${file}: ${m.message}`));
        }
      },
    );
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`${file} exited with ${code}`));
    });
  });
}

/** Runs a client task and returns its figures plus the server's CPU between "measure" and "measured". */
export async function measuredRun(
  server: ServerProcess,
  task: object,
  fds = 1024,
  file: "load-client.ts" | "peer-load-client.ts" = "load-client.ts",
): Promise<Record<string, number> & { cpu_ms: number }> {
  let cpuStart = 0;
  let cpu = 0;
  const figures = await runClient(
    task,
    (name) => {
      if (name === "measure") cpuStart = cpuMs(server.pid);
      if (name === "measured") cpu = cpuMs(server.pid) - cpuStart;
    },
    fds,
    file,
  );
  return { ...figures, cpu_ms: cpu };
}
