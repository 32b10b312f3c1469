/**
 * Finds the graphs to serve: every module in graphs/ under its file name, and
 * the entries of a LangGraph CLI `langgraph.json` ({"graphs": {"name":
 * "./path/file.ts:export"}}), so an existing LangGraph project loads unchanged.
 * Anything wrong stops the start-up naming the file, as a bad handler does.
 */
import { access, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { RunnableConfig } from "@langchain/core/runnables";
import { GRAPH_NAME_PATTERN } from "../core/protocol.js";
import type { CompiledGraph, GraphExport, LoadedGraph } from "./graph-registry.js";
import type { GraphServices } from "./graph-services.js";

const MODULE_FILE = /\.(?:[cm]?js|[cm]?ts)$/;
const SKIPPED_FILE = /\.d\.[cm]?ts$|\.(?:test|spec)\.[cm]?[jt]s$/;
export const GRAPH_NAME = new RegExp(GRAPH_NAME_PATTERN);

export class GraphLoadError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot load graph ${file}: ${reason}`, options);
    this.name = "GraphLoadError";
  }
}

/** Where one graph comes from. */
export interface GraphSource {
  name: string;
  file: string;
  /** The module's export holding the graph: `graph`, else the default export. */
  exportName?: string;
  description?: string;
}

/** The modules of `directory`, in sorted order, each named after its file. */
export async function graphsInFolder(directory: string): Promise<GraphSource[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => MODULE_FILE.test(n) && !SKIPPED_FILE.test(n))
    .sort()
    .map((n) => ({ name: n.replace(MODULE_FILE, ""), file: path.join(directory, n) }));
}

/**
 * The graphs of a `langgraph.json`; none when the file does not exist. A
 * TypeScript path is served from its compiled copy under `compiledRoot` when
 * there is one (`npm start` runs dist/, where Node cannot import .ts).
 */
export async function graphsInLanggraphJson(
  file: string,
  compiledRoot?: string,
): Promise<GraphSource[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (error) {
    throw new GraphLoadError(file, `not JSON: ${(error as Error).message}`, { cause: error });
  }
  const graphs = (spec as { graphs?: unknown } | null)?.graphs;
  if (graphs === undefined) return [];
  if (typeof graphs !== "object" || graphs === null || Array.isArray(graphs)) {
    throw new GraphLoadError(file, `"graphs" must be an object of name: "./file.ts:export"`);
  }
  const root = path.dirname(file);
  const sources: GraphSource[] = [];
  for (const [name, entry] of Object.entries(graphs as Record<string, unknown>)) {
    const described =
      typeof entry === "object" && entry !== null
        ? (entry as { path?: unknown; description?: unknown })
        : { path: entry };
    if (typeof described.path !== "string") {
      throw new GraphLoadError(file, `graph "${name}" must be "./file.ts:export" or {"path": …}`);
    }
    const [relative = "", exportName] = described.path.split(":", 2);
    sources.push({
      name,
      file: await servedFile(path.resolve(root, relative), root, compiledRoot),
      ...(exportName ? { exportName } : {}),
      ...(typeof described.description === "string" ? { description: described.description } : {}),
    });
  }
  return sources;
}

async function servedFile(file: string, root: string, compiledRoot?: string): Promise<string> {
  if (!compiledRoot || !/\.[cm]?ts$/.test(file)) return file;
  const compiled = path
    .join(compiledRoot, path.relative(root, file))
    .replace(/\.([cm]?)ts$/, ".$1js");
  return access(compiled).then(
    () => compiled,
    () => file,
  );
}

/**
 * Imports each source and checks it once: a factory is called with an empty
 * run config (as LangGraph Server does to read a graph's schema), so a graph
 * that cannot be built stops the start-up rather than its first run.
 */
export async function loadGraphs(
  sources: GraphSource[],
  services: GraphServices,
): Promise<Map<string, LoadedGraph>> {
  const loaded = new Map<string, LoadedGraph>();
  for (const source of sources) {
    const { name, file } = source;
    if (!GRAPH_NAME.test(name)) {
      throw new GraphLoadError(file, `"${name}" is not a graph name (${GRAPH_NAME.source})`);
    }
    const existing = loaded.get(name);
    if (existing) {
      throw new GraphLoadError(
        file,
        `a graph named "${name}" is already loaded from ${existing.file}`,
      );
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (error) {
      throw new GraphLoadError(file, `import failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const exported = source.exportName
      ? module[source.exportName]
      : (module["graph"] ?? module["default"]);
    const graph = await asGraphExport(file, exported, source.exportName ?? "graph or default");
    let sample: CompiledGraph;
    try {
      sample =
        typeof graph === "function" ? await graph({ configurable: {}, gateway: services }) : graph;
    } catch (error) {
      throw new GraphLoadError(file, `its factory failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!isCompiled(sample))
      throw new GraphLoadError(file, "its factory did not return a compiled graph");
    const description = source.description ?? module["description"];
    loaded.set(name, {
      name,
      file,
      description: typeof description === "string" ? description : "",
      inputKeys: Object.keys(sample.channels).filter(
        (k) => !k.startsWith("__") && !k.includes(":"),
      ),
      stateful: sample.checkpointer !== false,
      graph,
    });
  }
  return loaded;
}

async function asGraphExport(
  file: string,
  value: unknown,
  exportName: string,
): Promise<GraphExport> {
  const graph: unknown = await value;
  if (typeof graph === "function") {
    const factory = graph as (config: RunnableConfig) => unknown;
    return async (config) => compiledOf(await factory(config));
  }
  const compiled = compiledOf(graph);
  if (!isCompiled(compiled)) {
    throw new GraphLoadError(
      file,
      `export ${exportName} is not a graph: export a compiled graph (builder.compile()), a StateGraph, or a function (config) => graph`,
    );
  }
  return compiled;
}

/** A StateGraph not yet compiled is compiled, as LangGraph Server does. */
function compiledOf(value: unknown): CompiledGraph {
  const builder = value as { compile?: () => unknown } | null;
  return (typeof builder?.compile === "function" ? builder.compile() : value) as CompiledGraph;
}

function isCompiled(value: unknown): value is CompiledGraph {
  const graph = value as Partial<CompiledGraph> | null;
  return (
    typeof graph?.stream === "function" &&
    typeof graph.getState === "function" &&
    typeof graph.withConfig === "function" &&
    typeof graph.channels === "object"
  );
}
