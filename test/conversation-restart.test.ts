import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import { connect, request } from "./support/gateway.js";
import { createPrivateDatabase, type PrivateDatabase } from "./support/postgres.js";
import { spawnGateway } from "./support/process.js";
import { collectStream } from "./support/streams.js";

async function ask(socket: ClientSocket, content: string) {
  const id = randomUUID();
  const stream = collectStream(socket, () => id);
  await request(socket, "message", { content, message_id: id });
  return stream;
}

describe("conversations in PostgreSQL", function () {
  this.timeout(60000);
  let database: PrivateDatabase;
  before(async () => {
    database = await createPrivateDatabase();
  });
  after(() => database.drop());

  it("keeps a session's conversation across a server restart", async () => {
    const env = { CHECKPOINT_DATABASE_URL: database.url, DEMO_TOKEN_DELAY_MS: "0" };
    const first = await spawnGateway(env);
    const session = { session_id: `restart-${randomUUID()}` };
    const before = await connect(first.url, session);
    expect(
      (await ask(before.socket, "Remember that the launch code is sunflower")).end.type,
    ).to.equal("stream_end");
    before.socket.close();
    first.child.kill("SIGTERM");
    expect(await first.exited).to.equal(0);

    const second = await spawnGateway(env);
    const after = await connect(second.url, session);
    const { end } = await ask(after.socket, "what did I say before?");
    expect(end["total_content"]).to.include("Remember that the launch code is sunflower");
    after.socket.close();
    second.child.kill("SIGTERM");
    expect(await second.exited).to.equal(0);
  });
});
