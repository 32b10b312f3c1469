import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { metrics } from "./instruments.js";

/**
 * Times the saver's reads and writes in place: the graph holds this very
 * object, so wrapping its two hot methods measures every checkpoint without a
 * subclass per backend.
 */
export function timeCheckpointer<S extends BaseCheckpointSaver>(saver: S, backend: string): S {
  const getTuple = saver.getTuple.bind(saver);
  const put = saver.put.bind(saver);
  saver.getTuple = (...args) => timed("getTuple", backend, getTuple(...args));
  saver.put = (...args) => timed("put", backend, put(...args));
  return saver;
}

async function timed<T>(operation: string, backend: string, work: Promise<T>): Promise<T> {
  const end = metrics.checkpointerSeconds.startTimer({ operation, backend });
  try {
    return await work;
  } finally {
    end();
  }
}
