/** The graphs this gateway runs, by name: how a run gets its compiled graph and its thread. */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { BaseCheckpointSaver, StateSnapshot } from "@langchain/langgraph";
import { GatewayError } from "../core/errors.js";
import type { GraphServices } from "./graph-services.js";

/** What the gateway needs of a compiled LangGraph graph (a `Pregel`), and nothing more. */
export interface CompiledGraph {
  checkpointer?: BaseCheckpointSaver | boolean;
  readonly channels: Record<string, unknown>;
  stream(input: unknown, options?: Record<string, unknown>): Promise<AsyncIterable<unknown>>;
  getState(config: RunnableConfig): Promise<StateSnapshot>;
  withConfig(config: Record<string, unknown>): CompiledGraph;
}

/** A graph file's export: a compiled graph, or a factory called with each run's config. */
export type GraphExport =
  | CompiledGraph
  | ((
      config: RunnableConfig & { gateway: GraphServices },
    ) => CompiledGraph | Promise<CompiledGraph>);

export interface LoadedGraph {
  name: string;
  /** The file it came from, for errors and the listing. */
  file: string;
  description: string;
  /** The state keys a run's input may set (the graph's channels). */
  inputKeys: string[];
  /** Whether runs keep a conversation (any checkpointer); `checkpointer: false` opts out. */
  stateful: boolean;
  graph: GraphExport;
}

export interface GraphInfo {
  name: string;
  description: string;
  input_keys: string[];
  stateful: boolean;
  default: boolean;
}

/** The gateway's own chat agent: its conversations keep the session's bare thread, as before graphs were plugins. */
export const BUILT_IN_AGENT = "agent";

export class GraphRegistry {
  /** A compiled graph without a checkpointer, and its copy holding the gateway's. */
  private readonly withSaver = new WeakMap<CompiledGraph, CompiledGraph>();

  constructor(
    private readonly graphs: ReadonlyMap<string, LoadedGraph>,
    readonly defaultName: string,
    private readonly services: GraphServices,
  ) {
    this.require(defaultName, "AGENT_DEFAULT_GRAPH");
  }

  has(name: string): boolean {
    return this.graphs.has(name);
  }

  /** The graph named, or `unknown_graph` naming it and the graphs there are. */
  require(name: string, source = "graph"): LoadedGraph {
    const graph = this.graphs.get(name);
    if (graph) return graph;
    throw new GatewayError(
      "unknown_graph",
      `No graph named ${JSON.stringify(name.slice(0, 64))} (${source}); this server has: ${[...this.graphs.keys()].join(", ")}`,
      { graph: name.slice(0, 64), graphs: [...this.graphs.keys()] },
    );
  }

  list(): GraphInfo[] {
    return [...this.graphs.values()].map((g) => ({
      name: g.name,
      description: g.description,
      input_keys: g.inputKeys,
      stateful: g.stateful,
      default: g.name === this.defaultName,
    }));
  }

  /**
   * The compiled graph for one run. A factory is called with the run's config
   * (as LangGraph Server does); a graph compiled without a checkpointer gets
   * the gateway's, on a copy, so a module shared by two gateways keeps its own.
   */
  async compiled(name: string, config: RunnableConfig = {}): Promise<CompiledGraph> {
    const { graph } = this.require(name);
    const compiled =
      typeof graph === "function"
        ? await graph({
            ...config,
            configurable: { ...config.configurable },
            gateway: this.services,
          })
        : graph;
    if (compiled.checkpointer !== undefined) return compiled;
    let copy = this.withSaver.get(compiled);
    if (!copy) {
      copy = compiled.withConfig({});
      copy.checkpointer = this.services.checkpointer;
      this.withSaver.set(compiled, copy);
    }
    return copy;
  }

  /**
   * One conversation per session and graph, so graphs with different state
   * never share a thread. `base` names the session's owner (src/auth/principal.ts);
   * session ids cannot hold "#", so no two pairs meet.
   */
  threadOf(base: string, name: string): string {
    return name === BUILT_IN_AGENT ? base : `${base}#${name}`;
  }

  /** Resolves once the gateway's checkpointer has stored what the thread wrote so far. */
  written(threadId: string): Promise<void> {
    return this.services.checkpointer.written(threadId);
  }

  /** The graphs whose runs are kept in a checkpointer, where interrupts and history live. */
  stateful(): LoadedGraph[] {
    return [...this.graphs.values()].filter((g) => g.stateful);
  }
}
