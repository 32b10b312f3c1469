import type { RunnableConfig } from "@langchain/core/runnables";
import type { BaseCheckpointSaver, CheckpointMetadata } from "@langchain/langgraph";

/**
 * `configurable` keys every gateway run carries. The gateway's checkpointer
 * copies them into each checkpoint's metadata, so the checkpoint itself says
 * which run (message id) of which graph wrote it: an interrupted run can be
 * resumed by its message id from any node, and after a restart.
 */
export const RUN_CONFIG_KEYS = { messageId: "gateway_message_id", graph: "gateway_graph" } as const;

export interface CheckpointRun {
  messageId: string;
  graph: string;
}

/** Makes `saver` record the run of each checkpoint it writes (in place, as timeCheckpointer does). */
export function recordRunIds<S extends BaseCheckpointSaver>(saver: S): S {
  const put = saver.put.bind(saver);
  saver.put = (config, checkpoint, metadata, newVersions) => {
    const run = runOfConfig(config);
    const tagged: CheckpointMetadata = run
      ? Object.assign({}, metadata, {
          [RUN_CONFIG_KEYS.messageId]: run.messageId,
          [RUN_CONFIG_KEYS.graph]: run.graph,
        })
      : metadata;
    return put(config, checkpoint, tagged, newVersions);
  };
  return saver;
}

function runOfConfig(config: RunnableConfig): CheckpointRun | undefined {
  return runOfMetadata(config.configurable);
}

/** The run a checkpoint's metadata names, if the gateway wrote it. */
export function runOfMetadata(metadata: unknown): CheckpointRun | undefined {
  const fields = metadata as Record<string, unknown> | undefined;
  const messageId = fields?.[RUN_CONFIG_KEYS.messageId];
  const graph = fields?.[RUN_CONFIG_KEYS.graph];
  return typeof messageId === "string" && typeof graph === "string"
    ? { messageId, graph }
    : undefined;
}
