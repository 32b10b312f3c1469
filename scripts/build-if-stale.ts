/**
 * `npm start`'s build step: compiles to dist/ only when a source changed, was
 * added or was removed since the last build. A full `tsc` takes ~12 s; the
 * check takes well under one.
 *
 * The build is from scratch whenever it runs: tsc never deletes the output of
 * a removed file, and the loader would still serve a deleted handler from dist/.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { writeClientHandlers } from "./write-client-handlers.js";

const OUT_DIR = "dist";
const STAMP = path.join(OUT_DIR, ".build-inputs.json");
const SOURCE_DIRS = ["src", "handlers", "graphs"];
const CONFIG_FILES = [
  "tsconfig.json",
  "tsconfig.build.json",
  "package-lock.json",
  "langgraph.json",
];

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, encoding: "utf8" })
    .map((name) => path.join(directory, name))
    .filter((file) => statSync(file).isFile());
}

/** Every input with its modification time: any edit, addition or removal changes it. */
function inputsNow(): Record<string, number> {
  const files = [...SOURCE_DIRS.flatMap(filesUnder), ...CONFIG_FILES.filter(existsSync)].sort();
  return Object.fromEntries(files.map((file) => [file, statSync(file).mtimeMs]));
}

function lastBuildInputs(): string | undefined {
  try {
    return readFileSync(STAMP, "utf8");
  } catch {
    return undefined;
  }
}

// Before the inputs are read: a handler added or removed changes the typed client's list.
await writeClientHandlers();
const inputs = JSON.stringify(inputsNow());
if (inputs === lastBuildInputs()) {
  console.log(`${OUT_DIR}/ is up to date`);
} else {
  console.log(`Building ${OUT_DIR}/ (sources changed since the last build)…`);
  rmSync(OUT_DIR, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    stdio: "inherit",
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  writeFileSync(STAMP, inputs);
}
