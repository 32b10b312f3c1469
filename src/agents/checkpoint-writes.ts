import type { BaseCheckpointSaver } from "@langchain/langgraph";

/** A saver that can say when everything a thread has written so far is stored. */
export type TrackedSaver<S extends BaseCheckpointSaver> = S & {
  /** Resolves once the thread's writes begun so far are stored (or have failed). */
  written(threadId: string): Promise<void>;
};

/**
 * LangGraph writes checkpoints in the background while the graph goes on, and
 * its stream can end before the last write is stored. A client told a run
 * ended (or paused) may at once read the history or resume it, from any node:
 * the run announces its end only after `written` (in place, as timeCheckpointer does).
 */
export function trackWrites<S extends BaseCheckpointSaver>(saver: S): TrackedSaver<S> {
  const pending = new Map<string, Set<Promise<unknown>>>();
  const track = <T>(threadId: unknown, work: Promise<T>): Promise<T> => {
    if (typeof threadId !== "string") return work;
    let set = pending.get(threadId);
    if (!set) pending.set(threadId, (set = new Set()));
    const entry = work.catch(() => undefined);
    set.add(entry);
    void entry.then(() => {
      set.delete(entry);
      if (set.size === 0 && pending.get(threadId) === set) pending.delete(threadId);
    });
    return work;
  };
  const put = saver.put.bind(saver);
  const putWrites = saver.putWrites.bind(saver);
  saver.put = (config, ...rest) => track(config.configurable?.["thread_id"], put(config, ...rest));
  saver.putWrites = (config, ...rest) =>
    track(config.configurable?.["thread_id"], putWrites(config, ...rest));
  return Object.assign(saver, {
    // LangGraph chains a write behind the one before it, so the last may start only
    // once an earlier one is stored: wait until none is left.
    written: async (threadId: string) => {
      for (let set = pending.get(threadId); set; set = pending.get(threadId)) {
        await Promise.all(set);
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  });
}
