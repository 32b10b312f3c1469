/** Everything a file in graphs/ may need from the gateway, from one import (docs/graphs.md). */
export {
  gatewayServices,
  type GraphFactoryConfig,
  type GraphServices,
} from "./graphs/graph-services.js";
export {
  buildAgentGraph,
  buildDiscussionGraph,
  DEFAULT_PERSONAS,
  type Persona,
} from "./agents/index.js";
