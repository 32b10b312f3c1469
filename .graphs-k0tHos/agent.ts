import { buildAgentGraph, gatewayServices, type GraphFactoryConfig } from "../src/graph-kit.js";

export const description =
  "The gateway's chat agent: answers with AGENT_MODEL and uses the calculator and current_time tools.";

type AgentGraph = ReturnType<typeof buildAgentGraph>;
/** Built once per gateway: nothing in it depends on the run. */
const built = new WeakMap<object, AgentGraph>();

export function graph(config: GraphFactoryConfig): AgentGraph {
  const services = gatewayServices(config);
  let agent = built.get(services);
  if (!agent) {
    agent = buildAgentGraph({
      model: services.model,
      tools: services.tools,
      checkpointer: services.checkpointer,
      historyMaxMessages: services.historyMaxMessages,
      threadMaxMessages: services.threadMaxMessages,
      ...(services.health ? { health: services.health } : {}),
    });
    built.set(services, agent);
  }
  return agent;
}
