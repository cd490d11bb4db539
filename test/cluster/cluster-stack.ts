// The cluster tests' stack: the Temporal server (v1.29.1) on PostgreSQL with mTLS and the
// Switchboard processes of `npm run cluster` (workers/cluster/cluster.ts), on databases and
// ports of their own, with the sandbox carriers in this process so tests can count what reached
// them. Apps connect through the same envconfig profile the processes use.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import pino from 'pino';
import { SwitchboardClient } from '../../client/switchboard-client';
import { HttpMediaUploader } from '../../client/media-uploader';
import { loadConfig } from '../../config';
import type { Env } from '../../config';
import { keyDirectoryToken } from '../../config/key-directory';
import { deriveKey } from '../../config/secrets';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import type { TemporalConnectionOptions } from '../../config/temporal-connection';
import { openDatabase } from '../../store/database';
import type { Database } from '../../store/database';
import { freePort } from '../../bench/stack';
import { startCluster } from '../../workers/cluster/cluster';
import { installTemporalRuntime } from '../../workers/temporal-runtime';
import type { RunningCluster } from '../../workers/cluster/cluster';
import { RBM_WEBHOOK_PATH } from '../../workers/receipts-server';
import { startSandboxCarriers } from '../../workers/sandbox-carriers';
import type { SandboxCarriers } from '../../workers/sandbox-carriers';
import { TEST_SECRETS, TEST_TIMEOUTS, testDataConverter } from '../fixtures/stack';

export interface ClusterStack {
  cluster: RunningCluster;
  env: Env;
  /** How apps reach the cluster: the envconfig profile's address and mTLS. */
  temporal: TemporalConnectionOptions;
  client: Client;
  switchboard: SwitchboardClient;
  db: Database;
  carriers: SandboxCarriers;
  euCarriers: SandboxCarriers;
  /** The REST API process's address. */
  apiUrl: string;
  /** Seconds to a running cluster (schemas, certs, server, namespace, processes). */
  startSeconds: number;
}

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let current: ClusterStack | null = null;
let teardown: (() => Promise<void>) | null = null;

export function clusterStack(): ClusterStack {
  if (!current) throw new Error('the cluster stack is not running (test/cluster/global.ts starts it)');
  return current;
}

const portFree = (port: number) =>
  new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });

/** Ten consecutive free ports for the server's services (ops/temporal/config/switchboard.yaml). */
async function freePortBase(): Promise<number> {
  for (;;) {
    // Below 32768: the server stores membership ports as a PostgreSQL smallint.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = Array.from({ length: 10 }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

export async function startClusterStack(): Promise<ClusterStack> {
  const started = Date.now();
  const tag = randomBytes(4).toString('hex');
  const names = {
    app: `switchboard_cluster_${tag}`,
    temporal: `temporal_${tag}`,
    visibility: `temporal_vis_${tag}`,
  };
  await admin(`CREATE DATABASE ${names.app}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${names.app}`;
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-cluster-'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  installTemporalRuntime(logger);
  const [receiptsPort, shortlinkPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const webhookUrl = `http://127.0.0.1:${receiptsPort}${RBM_WEBHOOK_PATH}`;
  const base = loadConfig({ ...TEST_TIMEOUTS });
  const carriers = await startSandboxCarriers(base, { webhookUrl, logger, smppPort: 0, rcsPort: 0 });
  const euCarriers = await startSandboxCarriers(base, {
    webhookUrl,
    logger,
    smppPort: 0,
    rcsPort: 0,
    region: 'eu',
  });
  const roleEnv: Record<string, string> = {
    ...TEST_TIMEOUTS,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATA_DIR: dir,
    TEMPORAL_TASK_QUEUE: `switchboard-cluster-${tag}`,
    CODEC_KEYS: TEST_SECRETS.codecKeys,
    CODEC_ACTIVE_KEY: TEST_SECRETS.codecActiveKey ?? '',
    AUDIT_HASH_KEY: TEST_SECRETS.auditHashKey,
    SMPP_PORT: String(carriers.smppPort),
    RCS_HUB_URL: carriers.rcsHubUrl,
    REGION_ENDPOINTS: JSON.stringify({
      eu: { rcsHubUrl: euCarriers.rcsHubUrl, smppPort: euCarriers.smppPort },
    }),
    RECEIPTS_PORT: String(receiptsPort),
    SHORTLINK_PORT: String(shortlinkPort),
    API_PORT: String(apiPort),
    // A receipt that reached the inbox before a killed worker's retry recorded its part waits for
    // the next sweep; with the tests' 8 s SMS receipt timeout (production: 1 h) the sweep must be
    // as quick, or the chaos test reads RECEIPT_TIMEOUT for a delivered SMS.
    RECEIPT_INBOX_SWEEP_MS: '1000',
    RECEIPT_RETRY_MAX_MS: '1000',
    SHORTLINK_BASE_URL: `http://127.0.0.1:${shortlinkPort}`,
    CODEC_SERVER_PORT: '0',
  };
  const cluster = await startCluster({
    dir,
    db: {
      host: dbUrl.hostname,
      port: Number(dbUrl.port || 5432),
      user: decodeURIComponent(dbUrl.username || 'postgres'),
      password: decodeURIComponent(dbUrl.password),
      temporalDb: names.temporal,
      visibilityDb: names.visibility,
    },
    portBase: await freePortBase(),
    namespace: 'default',
    databaseUrl: dbUrl.toString(),
    deliveryWorkers: 2,
    roleEnv,
    logger,
  });
  const env = loadConfig({
    ...roleEnv,
    TEMPORAL_CONFIG_FILE: cluster.profileFile,
    TEMPORAL_PROFILE: 'cluster',
  });
  const temporal = temporalConnectionOptions(env);
  const connection = await Connection.connect(temporal);
  const client = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: testDataConverter(),
  });
  const switchboard = await SwitchboardClient.connect({
    ...temporal,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    dataConverter: testDataConverter(),
    messageIdKey: deriveKey(TEST_SECRETS, 'message-id'),
    media: new HttpMediaUploader({
      baseUrl: `http://127.0.0.1:${receiptsPort}`,
      bearerToken: keyDirectoryToken(env, TEST_SECRETS),
    }),
  });
  const db = openDatabase(dbUrl.toString(), 4);
  current = {
    cluster,
    env,
    temporal,
    client,
    switchboard,
    db,
    carriers,
    euCarriers,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    startSeconds: (Date.now() - started) / 1000,
  };
  teardown = async () => {
    await switchboard.close();
    await connection.close();
    await db.end();
    await cluster.stop();
    await carriers.stop();
    await euCarriers.stop();
    for (const name of Object.values(names)) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  };
  return current;
}

export async function stopClusterStack(): Promise<void> {
  await teardown?.();
  current = null;
  teardown = null;
}
