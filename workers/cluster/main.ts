// `npm run cluster`: the same system as `npm start`, on a real Temporal server (v1.29.1, built
// once into the cache) on PostgreSQL with mTLS, and Switchboard as separate processes: two
// delivery workers, the receipt router with the secure-link page, and the lawful-access and
// guards worker. The sandbox carriers run in this process. Ctrl-C stops everything.
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { dataDir } from '../../config/paths';
import { resolveSecrets } from '../../config/secrets';
import { createLogger } from '../logger';
import { RBM_WEBHOOK_PATH } from '../receipts-server';
import { createDatabaseIfMissing } from '../postgres';
import { startSandboxRegions } from '../sandbox-regions';
import { allowingSandboxReceiver } from '../sandbox-callbacks';
import type { SandboxRegions } from '../sandbox-regions';
import { startCluster } from './cluster';
import type { RunningCluster } from './cluster';

/** The machine's PostgreSQL (trust auth in the sandbox); DATABASE_URL names another. */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/switchboard_cluster';
const FRONTEND_PORT = 7233;

async function main(): Promise<void> {
  const env = loadConfig();
  const logger = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  const dir = dataDir(env);
  // Made once here (local key files under DATA_DIR), so the processes never race to create them.
  const secrets = resolveSecrets({ ...env, DATA_DIR: dir });
  const databaseUrl = new URL(env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  await createDatabaseIfMissing(admin.toString(), databaseUrl.pathname.slice(1));

  let cluster: RunningCluster | null = null;
  let carriers: SandboxRegions | null = null;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping…');
    await cluster?.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the cluster failed'));
    await carriers?.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the carriers failed'));
    logger.info('stopped');
    setTimeout(() => process.exit(code), 500).unref();
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const started = Date.now();
  try {
    if (env.SANDBOX)
      carriers = await startSandboxRegions(env, {
        databaseUrl: databaseUrl.toString(),
        secrets,
        webhookUrl: `http://${env.RECEIPTS_HOST}:${env.RECEIPTS_PORT}${RBM_WEBHOOK_PATH}`,
        logger,
      });
    logger.info('starting the Temporal server on PostgreSQL (mTLS) and the Switchboard processes');
    cluster = await startCluster({
      dir: join(dir, 'cluster'),
      db: {
        host: databaseUrl.hostname,
        port: Number(databaseUrl.port || 5432),
        user: decodeURIComponent(databaseUrl.username || 'postgres'),
        password: decodeURIComponent(databaseUrl.password),
        temporalDb: 'temporal',
        visibilityDb: 'temporal_visibility',
      },
      portBase: FRONTEND_PORT,
      namespace: env.TEMPORAL_NAMESPACE,
      databaseUrl: databaseUrl.toString(),
      deliveryWorkers: 2,
      // Delivery workers may call back to the sandbox's own receiver, and to no other private address.
      roleEnv: carriers
        ? {
            CALLBACK_ALLOWED_PRIVATE_TARGETS: allowingSandboxReceiver(
              env,
              carriers.callbackReceiver,
            ).CALLBACK_ALLOWED_PRIVATE_TARGETS.join(','),
          }
        : {},
      logger,
    });
    for (const p of cluster.processes.values())
      void p.exited.then((code) => {
        if (!stopping)
          logger.error({ process: p.name, code }, 'a Switchboard process exited; stopping the cluster');
        void stopAll(1);
      });
    logger.info(
      {
        temporal: cluster.server.address,
        metrics: cluster.server.metricsUrl,
        processes: [...cluster.processes.values()].map((p) => `${p.name}[${p.pid}] ${p.services}`),
        seconds: Math.round((Date.now() - started) / 100) / 10,
      },
      'Switchboard cluster is running — Ctrl-C stops it',
    );
    logger.info(
      `try: TEMPORAL_CONFIG_FILE=${cluster.profileFile} TEMPORAL_PROFILE=cluster npx switchboard send --to +15550100001 --text hi --wait`,
    );
  } catch (err) {
    logger.error({ err }, `cluster start failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
