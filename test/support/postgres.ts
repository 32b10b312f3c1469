import { randomBytes } from "node:crypto";
import pg from "pg";

const ADMIN_URL =
  process.env["POSTGRES_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Runs one statement on the admin database, which tests never write to otherwise. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface PrivateDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file, so the machine's data is never touched. */
export async function createPrivateDatabase(): Promise<PrivateDatabase> {
  const name = `gateway_test_${randomBytes(6).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
