// A throwaway database on the machine's PostgreSQL for one suite: created and migrated in
// before(), dropped in after(). No embedded fallback: these suites test against the real server.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../store/database';
import { migrate } from '../../store/migrate';
import type { Database } from '../../store/database';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  db: Database;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = openDatabase(url.toString(), 4);
  try {
    await migrate(db);
  } catch (err) {
    await db.end();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    throw err;
  }
  return {
    name,
    url: url.toString(),
    db,
    async drop() {
      await db.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
