import pg from 'pg';
import type { Logger } from 'pino';
import { MIGRATIONS } from './migrations';

export type Database = pg.Pool;

export function openDatabase(
  connectionString: string,
  max = 10,
  settings: Pick<pg.PoolConfig, 'application_name' | 'connectionTimeoutMillis'> = {},
): Database {
  const pool = new pg.Pool({ connectionString, max, ...settings });
  // An idle client that loses its connection emits 'error'; without a listener it would crash
  // the process instead of being replaced on next use.
  pool.on('error', () => undefined);
  return pool;
}

/** BEGIN for a consistent read-only view over many statements (cursors over the audit trail). */
export const SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** Runs `work` in one transaction on one client: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(
  db: Database,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await db.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const MIGRATION_LOCK = 0x5b0a_4d01;

export async function migrate(db: Database, logger?: Logger): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ id: number }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.id));
    for (const m of MIGRATIONS) {
      if (applied.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
        await client.query('COMMIT');
        logger?.info({ migration: m.id, name: m.name }, 'applied migration');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
