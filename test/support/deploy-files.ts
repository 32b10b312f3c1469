import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";

/** One instruction of a Dockerfile, continuation lines joined. */
export interface DockerInstruction {
  keyword: string;
  args: string;
}

export interface DockerStage {
  name: string | undefined;
  from: string;
  instructions: DockerInstruction[];
}

/** Splits a Dockerfile into its stages; comments and blank lines dropped, `\` continuations joined. */
export function dockerStages(text: string): DockerStage[] {
  const logical: string[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (pending === "" && /^\s*(#|$)/.test(line)) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    logical.push((pending + line).trim());
    pending = "";
  }
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === "FROM") {
      const [from = "", , name] = args.split(/\s+/);
      stages.push({ name: name?.toLowerCase(), from, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The argument list of an exec-form instruction (`CMD ["node", "x.js"]`). */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string"))
    throw new Error(`not an exec-form array: ${args}`);
  return parsed;
}

/** The setting names .env.example documents, commented-out ones included. */
export function documentedSettings(root: string): Set<string> {
  const text = readFileSync(path.join(root, ".env.example"), "utf8");
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
}

export function readYaml(file: string): unknown {
  // Compose files use merge keys (`<<: *anchor`), a YAML 1.1 feature.
  return parse(readFileSync(file, "utf8"), { merge: true });
}

export function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((doc) => {
    const [error] = doc.errors;
    if (error) throw new Error(`${file}: ${error.message}`);
    return doc.toJS() as unknown;
  });
}

/**
 * A compose value with its `${NAME:?message}` and `${NAME:-default}`
 * references replaced: by `samples[NAME]` when given, else by the default.
 */
export function composeValue(value: string, samples: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z_][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g,
    (_all, name: string, kind?: string, rest?: string) => {
      const sample = samples[name];
      if (sample !== undefined) return sample;
      if (kind === "-") return rest ?? "";
      throw new Error(`no sample value for the required variable ${name}`);
    },
  );
}

/** Kubernetes byte quantities as ingress-nginx reads proxy-body-size: 8m, 512k, 1g. */
export function nginxSize(size: string): number {
  const [, digits = "", unit = ""] = /^(\d+)([kmg]?)$/i.exec(size) ?? [];
  if (digits === "") throw new Error(`not an nginx size: ${size}`);
  const factor = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit.toLowerCase()] ?? NaN;
  return Number(digits) * factor;
}
