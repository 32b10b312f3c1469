import { h } from "./dom.js";
import { recall, remember, STORED } from "./settings.js";

/**
 * The graph selector: the graphs of GET /api/graphs, each with its description
 * as its tooltip. The reader's last choice is remembered (a reload asks the
 * same graph for its history); otherwise the server's default is preselected.
 */
export class GraphSelect {
  constructor(select) {
    this.select = select;
    this.graphs = new Map();
    select.addEventListener("change", () => {
      remember(STORED.graph, select.value);
      this.showDescription();
    });
  }

  /** The chosen graph's name, or undefined while the list is not loaded. */
  get value() {
    return this.graphs.has(this.select.value) ? this.select.value : undefined;
  }

  async load(baseUrl) {
    try {
      const response = await fetch(`${baseUrl}/api/graphs`, {
        headers: { accept: "application/json" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      this.graphs = new Map(body.graphs.map((g) => [g.name, g]));
    } catch (error) {
      this.graphs = new Map();
      this.select.title = `Could not load /api/graphs: ${error.message}`;
    }
    this.select.replaceChildren(
      ...[...this.graphs.values()].map((g) =>
        h("option", { value: g.name, title: g.description }, g.name),
      ),
    );
    const stored = recall(STORED.graph);
    const fallback = [...this.graphs.values()].find((g) => g.default)?.name;
    if (this.graphs.has(stored)) this.select.value = stored;
    else if (fallback) this.select.value = fallback;
    this.showDescription();
    this.select.dataset.loaded = "true";
  }

  showDescription() {
    const chosen = this.graphs.get(this.select.value);
    if (chosen) this.select.title = chosen.description;
  }

  /** A `message` payload with the chosen graph, unless the payload names one itself. */
  withGraph(payload) {
    const graph = this.value;
    return graph && payload.graph === undefined ? { ...payload, graph } : payload;
  }
}
