import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { startGateway, type RunningGateway } from "./support/gateway.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env["INTEROP_PYTHON"] ?? "/usr/bin/python3";
const README_ADDRESS = "http://localhost:8003";

/** The README's first code block in `language` that contains `marker`, as written. */
async function readmeExample(language: string, marker: string): Promise<string> {
  const readme = await readFile(path.join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)];
  const block = blocks.find(([, lang, code]) => lang === language && code?.includes(marker));
  if (!block?.[2]) throw new Error(`README.md has no ${language} example with ${marker}`);
  expect(block[2]).to.include(README_ADDRESS);
  return block[2];
}

/** Runs a program to its end; a program that never ends fails the test by its timeout. */
async function run(command: string, args: string[], cwd: string) {
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

describe("README examples, run as written against a real gateway", function () {
  this.timeout(30_000);

  let server: RunningGateway;
  let dir: string;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "1" });
    // The JavaScript example imports socket.io-client, as a reader's own folder would after npm i.
    dir = await mkdtemp(path.join(tmpdir(), "gateway-readme-"));
    await symlink(await realpath(path.join(root, "node_modules")), path.join(dir, "node_modules"));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("the JavaScript example prints the ack and the streamed answer, then ends", async () => {
    const code = await readmeExample("js", 'from "socket.io-client"');
    await writeFile(path.join(dir, "ask.mjs"), code.replaceAll(README_ADDRESS, server.url));
    const result = await run(process.execPath, ["ask.mjs"], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/ok: true/);
    expect(result.stdout).to.include("= 84");
  });

  it("the Python example prints the tool's result and the streamed answer, then ends", async () => {
    const code = await readmeExample("python", "import socketio");
    await writeFile(path.join(dir, "ask.py"), code.replaceAll(README_ADDRESS, server.url));
    const result = await run(PYTHON, ["ask.py"], dir);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include("'result': 579");
    expect(result.stdout).to.include("= 84");
  });
});
