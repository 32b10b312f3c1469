import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { ChatOpenAI } from "@langchain/openai";
import { ConfigError, type Config } from "../core/config.js";
import { DemoChatModel } from "./demo-chat-model.js";

export interface AgentModel {
  model: BaseChatModel;
  /** "demo" or "openai": lets the gateway say which kind of model answered. */
  vendor: string;
  /** host[:port] of a remote model, named in its errors and readiness; none for the demo model. */
  endpoint?: string;
}

// Local OpenAI-compatible servers (vLLM, llama.cpp, Ollama) ignore the key, but
// the client refuses to send a request without one.
const PLACEHOLDER_API_KEY = "not-needed";
const DEFAULT_OPENAI_URL = "https://api.openai.com/v1";

/** `demo` → the offline DemoChatModel; `openai:<model>` → ChatOpenAI, streaming. */
export function createChatModel(agent: Config["agent"]): AgentModel {
  if (agent.model === "demo") {
    return { model: new DemoChatModel({ tokenDelayMs: agent.demoTokenDelayMs }), vendor: "demo" };
  }
  const name = /^openai:(.+)$/.exec(agent.model)?.[1];
  if (name === undefined) {
    throw new ConfigError(`AGENT_MODEL="${agent.model}": must be "demo" or "openai:<model>"`);
  }
  if (agent.openaiApiKey === undefined && agent.openaiBaseUrl === undefined) {
    throw new ConfigError(
      `AGENT_MODEL="${agent.model}" needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local server`,
    );
  }
  const model = new ChatOpenAI({
    model: name,
    apiKey: agent.openaiApiKey ?? PLACEHOLDER_API_KEY,
    configuration: { baseURL: agent.openaiBaseUrl },
    streaming: true,
    // The client's timeout runs from the request until the response starts,
    // so it bounds connecting and waiting for the server. Retries would
    // multiply it (six by default, with backoff: 85-95 s before an answer).
    timeout: agent.modelTimeoutMs,
    maxRetries: 0,
  });
  const endpoint = new URL(agent.openaiBaseUrl ?? DEFAULT_OPENAI_URL).host;
  return { model, vendor: "openai", endpoint };
}
