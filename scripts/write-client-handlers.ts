/**
 * Writes src/client/handler-modules.ts: one type-only import per handler file,
 * from which the typed client (agent-gateway/client) derives its event maps.
 * TypeScript cannot import a folder, so the list is written here, before
 * every typecheck and build (npm run typecheck, npm run build, npm start):
 * adding a file to handlers/ needs no other change.
 *
 *   node --import tsx scripts/write-client-handlers.ts [root]
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { format, resolveConfig } from "prettier";
import { isHandlerFile } from "../src/registry/load-handlers.js";

/** Only TypeScript files carry types; a JavaScript handler is served but not typed. */
const TYPED_FILE = /\.[cm]?ts$/;

export async function writeClientHandlers(root = "."): Promise<boolean> {
  const target = path.join(root, "src/client/handler-modules.ts");
  const names = readdirSync(path.join(root, "handlers"))
    .filter((name) => isHandlerFile(name) && TYPED_FILE.test(name))
    .sort();
  const modules = names.map((name) => ({
    binding: `handler_${name.replace(/\.[cm]?ts$/, "").replace(/[^\w$]/g, "_")}`,
    specifier: `../../handlers/${name.replace(/\.([cm]?)ts$/, ".$1js")}`,
  }));
  const source = [
    "// Written by scripts/write-client-handlers.ts from the files in handlers/: do not edit.",
    "// npm run typecheck and npm run build write it first, so a new handler file needs nothing else.",
    ...modules.map(({ binding, specifier }) => `import type * as ${binding} from "${specifier}";`),
    "",
    "export type HandlerModules = [",
    ...modules.map(({ binding }) => `  typeof ${binding},`),
    "];",
    "",
  ].join("\n");
  const formatted = await format(source, {
    ...(await resolveConfig(target)),
    filepath: target,
  });
  let current: string | undefined;
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = undefined;
  }
  if (current === formatted) return false;
  writeFileSync(target, formatted);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (await writeClientHandlers(process.argv[2]))
    console.log("src/client/handler-modules.ts written");
}
