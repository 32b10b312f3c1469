import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { expect } from "chai";

// `npm ci --omit=dev` installs only these, so what the server runs must need nothing else.
const manifest = JSON.parse(readFileSync("package.json", "utf8")) as {
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
const installed = new Set([
  ...Object.keys(manifest.dependencies),
  ...Object.keys(manifest.optionalDependencies ?? {}),
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name) && !/\.d\.ts$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Packages a file imports for its running code (`import type` is erased by the compiler). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [
    ...text.matchAll(/^import (?!type )[^;]*?from "([^"]+)"/gms),
    ...text.matchAll(/import\("([^"]+)"\)/g),
  ].map((match) => match[1] ?? "");
  return specifiers
    .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !builtinModules.includes(s))
    .map((s) =>
      s
        .split("/")
        .slice(0, s.startsWith("@") ? 2 : 1)
        .join("/"),
    );
}

describe("dependencies", () => {
  it("the server's code imports only packages a production install has", () => {
    const missing = ["src", "handlers"]
      .flatMap(sources)
      .flatMap((file) => runtimeImports(file).map((pkg) => `${file}: ${pkg}`))
      .filter((line) => !installed.has(line.split(": ")[1] ?? ""));
    expect(missing).to.deep.equal([]);
  });
});
