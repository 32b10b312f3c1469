import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { cp, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PROJECT_FILES = [
  "src",
  "handlers",
  "graphs",
  "scripts",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
];

/** A copy of the project in a temporary folder, so a test may add handler files and build. */
async function projectCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gateway-scripts-"));
  for (const name of PROJECT_FILES)
    await cp(path.join(root, name), path.join(dir, name), { recursive: true });
  await symlink(await realpath(path.join(root, "node_modules")), path.join(dir, "node_modules"));
  return dir;
}

interface NpmRun {
  child: ChildProcess;
  output(): string;
  /** Resolves with the `gateway listening` entries logged so far once there are `count`. */
  listening(
    count: number,
  ): Promise<Array<{ console: string; port: number; handlers: string[]; graphs: string[] }>>;
  stop(): Promise<void>;
}

/** `npm run <script>` in its own process group, so stopping it stops tsx and its child too. */
function npmRun(dir: string, script: string): NpmRun {
  const child = spawn("npm", ["run", "--silent", script], {
    cwd: dir,
    detached: true,
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", LOG_FORMAT: "json", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = once(child, "exit");
  const waiters: Array<() => void> = [];
  const onData = (data: Buffer) => {
    output += data.toString();
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const entries = () =>
    output
      .split("\n")
      .filter((line) => line.includes('"gateway listening"'))
      .map(
        (line) =>
          JSON.parse(line) as {
            console: string;
            port: number;
            handlers: string[];
            graphs: string[];
          },
      );
  return {
    child,
    output: () => output,
    async listening(count) {
      while (entries().length < count) {
        if (child.exitCode !== null) throw new Error(`npm run ${script} exited:\n${output}`);
        await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), exited]);
      }
      return entries();
    },
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      process.kill(-child.pid, "SIGTERM");
      await exited;
    },
  };
}

describe("npm scripts", function () {
  // Each test compiles or starts the whole gateway in a fresh copy of the project.
  this.timeout(120_000);

  let dir: string;
  before(async () => {
    dir = await projectCopy();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("npm run dev serves a handler file, then a graph file, added while it runs", async () => {
    const dev = npmRun(dir, "dev");
    try {
      const [first] = await dev.listening(1);
      expect(first?.handlers).to.not.include("zz_added");
      const ping = await readFile(path.join(dir, "handlers", "ping.ts"), "utf8");
      await writeFile(
        path.join(dir, "handlers", "zz_added.ts"),
        ping.replace('type: "ping"', 'type: "zz_added"'),
      );
      const [, second] = await dev.listening(2);
      expect(second?.handlers).to.include("zz_added");
      const listed = (await (
        await fetch(`http://127.0.0.1:${second?.port}/api/handlers`)
      ).json()) as { handlers: Array<{ type: string }> };
      expect(listed.handlers.map((h) => h.type)).to.include("zz_added");
      // A graph file dropped into graphs/ is picked up the same way.
      expect(second?.graphs).to.include("approval").and.not.include("zz_graph");
      await cp(
        path.join(root, "test/fixtures/third-party-graphs/support_desk.ts"),
        path.join(dir, "graphs", "zz_graph.ts"),
      );
      const [, , third] = await dev.listening(3);
      expect(third?.graphs).to.include("zz_graph");
    } finally {
      await dev.stop();
      await rm(path.join(dir, "handlers", "zz_added.ts"), { force: true });
      await rm(path.join(dir, "graphs", "zz_graph.ts"), { force: true });
    }
  });

  it("npm start builds once, starts without building while nothing changed, and prints the console's URL", async () => {
    // A handler of its own to remove later: the shipped ones are imported by the typed client entry.
    const ping = await readFile(path.join(dir, "handlers", "ping.ts"), "utf8");
    await writeFile(
      path.join(dir, "handlers", "zz_removed.ts"),
      ping.replace('type: "ping"', 'type: "zz_removed"'),
    );
    const first = npmRun(dir, "start");
    try {
      const [entry] = await first.listening(1);
      expect(first.output()).to.include("Building dist/");
      expect(entry?.console).to.equal(`http://127.0.0.1:${entry?.port}/`);
    } finally {
      await first.stop();
    }
    const second = npmRun(dir, "start");
    try {
      const [entry] = await second.listening(1);
      expect(entry?.handlers).to.include("zz_removed");
      expect(second.output()).to.include("dist/ is up to date");
      expect(second.output()).to.not.include("Building dist/");
    } finally {
      await second.stop();
    }
    // A removed handler must not be served from an old build.
    await rm(path.join(dir, "handlers", "zz_removed.ts"));
    const third = npmRun(dir, "start");
    try {
      const [entry] = await third.listening(1);
      expect(third.output()).to.include("Building dist/");
      expect(entry?.handlers).to.not.include("zz_removed");
    } finally {
      await third.stop();
    }
  });
});
