import { readdirSync, readFileSync } from "node:fs";
import { cpuMs } from "./proc-stats.js";

/** Each live process's parent, from /proc (a process that ends meanwhile is skipped). */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      map.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone between the listing and the read
    }
  }
  return map;
}

/** `pid` and every process below it. */
export function processTree(pid: number): number[] {
  const byParent = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of byParent) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** CPU of a whole tree (a WORKERS primary and its workers), in ms. */
export function treeCpuMs(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      total += cpuMs(member);
    } catch {
      // ended meanwhile
    }
  }
  return total;
}

/** The benchmark's load client: this process's child running load-client.ts. */
export function loadClientPid(): number | undefined {
  for (const pid of processTree(process.pid).slice(1)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes("load-client.ts") && !cmdline.includes("prlimit")) return pid;
    } catch {
      // ended meanwhile
    }
  }
  return undefined;
}
