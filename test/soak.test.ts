import { expect } from "chai";
import { runSoak } from "../bench/soak-run.js";

describe("soak (the small version of npm run soak)", () => {
  it("survives thousands of hostile events, floods and clients that stop reading", async function () {
    this.timeout(90_000);
    const report = await runSoak({ events: 3000, workers: 8, floods: 1, slowConsumers: 1 });
    expect(report.crashes, "gateway process exits").to.equal(0);
    expect(report.unanswered, "acks never answered on an open connection").to.equal(0);
    expect(report.acks_answered + report.cut_with_acks_pending).to.equal(report.acks_expected);
    expect(report.disconnects_by_reason, JSON.stringify(report)).to.include({
      "flood: io server disconnect": 1,
      "slow consumer: closed by the server": 1,
    });
    expect(report.refusals_by_code).to.have.keys(
      "unknown_type",
      "invalid_payload",
      "message_too_large",
    );
    expect(report.polite_failures).to.equal(0);
    expect(report.polite_served_after).to.equal(true);
  });
});
