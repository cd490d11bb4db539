import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { ensureAuditPartitions } from '../../store/audit-retention';
import { openDatabase } from '../../store/database';
import { migrate } from '../../store/migrate';
import { startRoleProcess } from './role-process';
import type { RoleProcess } from './role-process';
import {
  clientTls,
  ensureTemporalServer,
  makeCerts,
  registerNamespace,
  setupTemporalSchema,
  startTemporalServer,
} from './temporal-server';
import type { RunningTemporalServer, TemporalDatabases } from './temporal-server';

/** The processes of the cluster topology: the roles each runs (docker-compose.yml has the same). */
export const CLUSTER_PROCESSES = (deliveryWorkers: number) => [
  ...Array.from({ length: deliveryWorkers }, (_, i) => ({ name: `worker-${i + 1}`, services: 'worker' })),
  { name: 'receipts', services: 'receipts,shortlinks' },
  { name: 'lawful-access', services: 'lawful-access,guards' },
  { name: 'api', services: 'api' },
];

export interface RunningCluster {
  server: RunningTemporalServer;
  /** The envconfig profile file every process reads (profile `cluster`). */
  profileFile: string;
  tls: ReturnType<typeof clientTls>;
  processes: Map<string, RoleProcess>;
  /** The environment every role process gets (the profile, the database, the roles' settings). */
  roleEnv: NodeJS.ProcessEnv;
  /** Starts a process of the topology again (after a kill), with the same roles and config. */
  restart(name: string): Promise<RoleProcess>;
  stop(): Promise<void>;
}

/** An envconfig profile: how the CLI and every process reach the cluster, over mTLS. */
function writeProfile(dir: string, address: string, namespace: string, certs: string): string {
  const file = join(dir, 'temporal.toml');
  const lines = [
    '# Written by `npm run cluster`: TEMPORAL_CONFIG_FILE=<this file> TEMPORAL_PROFILE=cluster',
    '[profile.cluster]',
    `address = "${address}"`,
    `namespace = "${namespace}"`,
    '[profile.cluster.tls]',
    `client_cert_path = "${join(certs, 'client.pem')}"`,
    `client_key_path = "${join(certs, 'client-key.pem')}"`,
    `server_ca_cert_path = "${join(certs, 'ca.pem')}"`,
    'server_name = "localhost"',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * The Temporal server on PostgreSQL with mTLS, the namespace and search attributes, then one
 * process per role of CLUSTER_PROCESSES, all connecting through the envconfig profile.
 */
export async function startCluster(options: {
  dir: string;
  db: TemporalDatabases;
  portBase: number;
  namespace: string;
  databaseUrl: string;
  deliveryWorkers: number;
  /** The role processes' environment (carriers, ports, secrets, timeouts). */
  roleEnv: NodeJS.ProcessEnv;
  logger: Logger;
}): Promise<RunningCluster> {
  const { logger } = options;
  const certs = join(options.dir, 'certs');
  mkdirSync(options.dir, { recursive: true });
  const binary = ensureTemporalServer();
  setupTemporalSchema(options.db);
  makeCerts(certs);
  const server = await startTemporalServer({
    server: binary,
    db: options.db,
    certs,
    portBase: options.portBase,
    logger,
  });
  const processes = new Map<string, RoleProcess>();
  const stop = async () => {
    for (const p of [...processes.values()].reverse()) await p.stop();
    await server.stop();
  };
  try {
    const tls = clientTls(certs);
    const connection = await Connection.connect({ address: server.address, tls });
    await registerNamespace(connection, options.namespace).finally(() => connection.close());
    // Migrations and partitions once, before several processes would race for them.
    const db = openDatabase(options.databaseUrl, 1);
    await migrate(db, logger)
      .then(() => ensureAuditPartitions(db, new Date()))
      .finally(() => db.end());
    const profileFile = writeProfile(options.dir, server.address, options.namespace, certs);
    // Each process reaches Temporal through the profile alone, as a deployment's would.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.startsWith('TEMPORAL_') || name === 'TEMPORAL_CLI_PATH',
      ),
    );
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      // Six processes and the Temporal server (30 connections) share PostgreSQL's default 100.
      DATABASE_POOL_MAX: '6',
      ...options.roleEnv,
      TEMPORAL_CONFIG_FILE: profileFile,
      TEMPORAL_PROFILE: 'cluster',
      TEMPORAL_NAMESPACE: options.namespace,
      DATABASE_URL: options.databaseUrl,
      // Several processes on one machine: each serves its metrics on a port of its own choosing
      // (in its start-up log line); the SDK's own metrics stay off.
      METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
    };
    const topology = CLUSTER_PROCESSES(options.deliveryWorkers);
    const start = async (name: string) => {
      const spec = topology.find((p) => p.name === name);
      if (!spec) throw new Error(`no process ${name} in the cluster topology`);
      const started = await startRoleProcess({ ...spec, env, logger });
      processes.set(name, started);
      return started;
    };
    await Promise.all(topology.map((p) => start(p.name)));
    return { server, profileFile, tls, processes, roleEnv: env, restart: start, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
