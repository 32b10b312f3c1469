/**
 * `npm run soak`: a bounded abuse run against a real gateway process on
 * loopback (bench/soak-run.ts). Not part of `npm test`; a small version is
 * test/soak.test.ts. Flags: --events, --workers, --floods, --slow.
 */
import { parseArgs } from "node:util";
import { runSoak } from "./soak-run.js";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    workers: { type: "string", default: "16" },
    floods: { type: "string", default: "4" },
    slow: { type: "string", default: "4" },
  },
});

const report = await runSoak({
  events: Number(values.events),
  workers: Number(values.workers),
  floods: Number(values.floods),
  slowConsumers: Number(values.slow),
});
console.log("| figure | value |\n| --- | --- |");
for (const [key, value] of Object.entries(report) as Array<[string, unknown]>) {
  const shown =
    typeof value === "object" && value !== null
      ? Object.entries(value as Record<string, number>)
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ")
      : String(value);
  console.log(`| ${key} | ${shown} |`);
}
const failed = report.crashes > 0 || report.unanswered > 0 || !report.polite_served_after;
process.exit(failed ? 1 : 0);
