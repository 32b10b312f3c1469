/** The gateway's own graphs and what every graph run uses: the model, the checkpointer, message text. */
export { buildAgentGraph, type AgentGraph } from "./agent-graph.js";
export { createChatModel, type AgentModel } from "./chat-model.js";
export { createCheckpointer, type Checkpointer } from "./checkpointer.js";
export { ModelHealth } from "./model-health.js";
export { LatestCheckpointSaver } from "./latest-checkpoint-saver.js";
export { PruningPostgresSaver } from "./pruning-postgres-saver.js";
export { DEFAULT_THREAD_BOUNDS, type ThreadBounds } from "./thread-bounds.js";
export { textOf } from "./message-text.js";
export { DemoChatModel, type DemoChatModelFields } from "./demo-chat-model.js";
export {
  buildDiscussionGraph,
  DEFAULT_PERSONAS,
  discussionStepLimit,
  DiscussionState,
  type DiscussionGraph,
  type Persona,
  type Turn,
} from "./discussion-graph.js";
export { RUN_CONFIG_KEYS, runOfMetadata, type CheckpointRun } from "./run-metadata.js";
export { trackWrites, type TrackedSaver } from "./checkpoint-writes.js";
