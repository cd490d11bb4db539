import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from '../../config/paths';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';

/** Where the Temporal server's PostgreSQL databases are. */
export interface TemporalDatabases {
  host: string;
  port: number;
  user: string;
  password: string;
  temporalDb: string;
  visibilityDb: string;
}

/** Runs one of scripts/*.sh and returns its stdout lines; its stderr (progress, errors) passes through. */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const result = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) throw new Error(`scripts/${script} failed (see the message above)`);
  return result.stdout.trim().split('\n');
}

/** The server binary (built once into the cache by scripts/ensure-temporal-server.sh). */
export function ensureTemporalServer(): string {
  const [server] = runScript('ensure-temporal-server.sh', []);
  if (!server) throw new Error('scripts/ensure-temporal-server.sh printed no server path');
  return server;
}

const databaseEnv = (db: TemporalDatabases) => ({
  TEMPORAL_PG_HOST: db.host,
  TEMPORAL_PG_PORT: String(db.port),
  TEMPORAL_PG_USER: db.user,
  TEMPORAL_PG_PASSWORD: db.password,
  TEMPORAL_DB: db.temporalDb,
  TEMPORAL_VISIBILITY_DB: db.visibilityDb,
});

/** Creates the two databases, or brings their schemas up to date (scripts/setup-temporal-schema.sh). */
export function setupTemporalSchema(db: TemporalDatabases): void {
  runScript('setup-temporal-schema.sh', [], databaseEnv(db));
}

/** A CA, server and client certificates under `dir` (scripts/make-certs.sh); existing ones are kept. */
export function makeCerts(dir: string): void {
  runScript('make-certs.sh', [dir]);
}

/** The client side of the cluster's mTLS: what every process's TEMPORAL_TLS_* point at. */
export function clientTls(certs: string) {
  return {
    serverNameOverride: 'localhost',
    serverRootCACertificate: readFileSync(join(certs, 'ca.pem')),
    clientCertPair: {
      crt: readFileSync(join(certs, 'client.pem')),
      key: readFileSync(join(certs, 'client-key.pem')),
    },
  };
}

export interface RunningTemporalServer {
  address: string;
  /** The server's own Prometheus endpoint. */
  metricsUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the server with ops/temporal/config/switchboard.yaml: PostgreSQL persistence, 8 history
 * shards, the frontend on `portBase` with mTLS. Resolves once the frontend answers over mTLS.
 */
export async function startTemporalServer(options: {
  server: string;
  db: TemporalDatabases;
  certs: string;
  portBase: number;
  logger: Logger;
}): Promise<RunningTemporalServer> {
  const child: ChildProcess = spawn(
    options.server,
    [
      '--root',
      PROJECT_ROOT,
      '--config',
      'ops/temporal/config',
      '--env',
      'switchboard',
      '--allow-no-auth',
      'start',
    ],
    {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...databaseEnv(options.db),
        TEMPORAL_CLUSTER_PORT_BASE: String(options.portBase),
        TEMPORAL_CLUSTER_CERTS: options.certs,
      },
    },
  );
  // The last lines the server wrote name why it stopped, should it stop during start.
  const tail: string[] = [];
  const log = (chunk: Buffer) => {
    const text = chunk.toString().trim();
    tail.push(...text.split('\n').map((line) => line.slice(0, 400)));
    tail.splice(0, Math.max(0, tail.length - 5));
    options.logger.debug({ temporal: text }, 'temporal server');
  };
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const address = `127.0.0.1:${options.portBase}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForFrontend(address, clientTls(options.certs), exited);
  } catch (err) {
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${tail.join('\n')}`);
  }
  return { address, metricsUrl: `http://127.0.0.1:${options.portBase + 9}/metrics`, stop };
}

async function waitForFrontend(
  address: string,
  tls: ReturnType<typeof clientTls>,
  exited: Promise<number | null>,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error('the Temporal server exited during start; its last lines:');
    try {
      const connection = await Connection.connect({ address, tls, connectTimeout: 1000 });
      await connection.healthService.check({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal server did not answer on ${address} within 90 s`);
}

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/** The namespace (retention 3 days) and our search attributes; both kept when they exist. */
export async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
  } catch (err) {
    if (!/already exists/i.test(String(err))) throw err;
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length)
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, KEYWORD])),
    });
}
