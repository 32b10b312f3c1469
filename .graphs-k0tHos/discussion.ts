import {
  buildDiscussionGraph,
  DEFAULT_PERSONAS,
  gatewayServices,
  type GraphFactoryConfig,
  type Persona,
} from "../src/graph-kit.js";

export const description =
  "A round-table: each participant (configurable.participants) speaks in turn for configurable.rounds rounds on the input's topic.";

/** Its nodes are its participants, so it is built for each run from the run's config. */
export function graph(config: GraphFactoryConfig) {
  const { participants, rounds } = (config.configurable ?? {}) as {
    participants?: Persona[];
    rounds?: number;
  };
  return buildDiscussionGraph({
    model: gatewayServices(config).model,
    participants: participants ?? DEFAULT_PERSONAS,
    rounds: rounds ?? 2,
  });
}
