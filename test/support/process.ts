import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote, for assertions and for failure messages. */
  output(): string;
  exited: Promise<number | null>;
}

/** Runs src/main.ts as its own process and resolves once it logs that it listens. */
export function spawnGateway(
  env: Record<string, string>,
  onStderr: (data: string) => void = () => {},
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  // "close", not "exit": it waits for stdout and stderr to be read to the end.
  const exited = once(child, "close").then(([code]) => code as number | null);
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const line = output.split("\n").find((l) => l.includes('"gateway listening"'));
      if (!line) return;
      const { port } = JSON.parse(line) as { port: number };
      resolve({ child, url: `http://127.0.0.1:${port}`, output: () => output, exited });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.stderr.on("data", (data: Buffer) => onStderr(data.toString()));
    void exited.then((code) =>
      reject(new Error(`gateway exited with ${code} before listening:\n${output}`)),
    );
  });
}

/** Runs src/main.ts expecting it to refuse to start; resolves with its exit code and output. */
export async function failedStart(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string; stderr: string }> {
  let stderr = "";
  try {
    const started = await spawnGateway(env, (data) => (stderr += data));
    started.child.kill("SIGKILL");
  } catch (error) {
    const message = (error as Error).message;
    const code = Number(/exited with (\d+)/.exec(message)?.[1]);
    return { code, output: message, stderr };
  }
  throw new Error("the gateway started");
}
