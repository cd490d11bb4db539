import pg from 'pg';

// The schema is brought up to date by migrate() in store/migrate.ts, which runs the list in
// store/migrations.ts; that list imports the stores, and the stores import this module.
export type Database = pg.Pool;

/** Well above a healthy connect (milliseconds), well below an activity attempt's timeout. */
export const CONNECT_TIMEOUT_MS = 5_000;

export function openDatabase(
  connectionString: string,
  max = 10,
  settings: Pick<pg.PoolConfig, 'application_name' | 'connectionTimeoutMillis'> = {},
): Database {
  const pool = new pg.Pool({
    connectionString,
    max,
    // A connect to an unreachable server (or a free client, with all of them taken) gives up,
    // so the activity attempt fails and is retried rather than waiting on it forever.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A connection whose peer vanished without a reset is found dead and dropped by the kernel.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...settings,
  });
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
