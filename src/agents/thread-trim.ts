import { RemoveMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";

/**
 * The removals that bring a stored thread down to its newest `max` messages
 * (AGENT_THREAD_MAX_MESSAGES). Every step writes the whole thread to the
 * checkpointer, so an unbounded thread makes each message cost more than the
 * one before. The oldest go first, and the kept part never opens with a tool
 * result whose call was removed: the cut moves past such results.
 *
 * The messages reducer gives every stored message an id, which removal needs.
 */
export function messagesToRemove(messages: BaseMessage[], max: number): RemoveMessage[] {
  let cut = Math.max(0, messages.length - max);
  while (cut < messages.length && ToolMessage.isInstance(messages[cut])) cut++;
  return messages
    .slice(0, cut)
    .flatMap((message) =>
      message.id === undefined ? [] : [new RemoveMessage({ id: message.id })],
    );
}
