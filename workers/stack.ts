// `npm start`: the whole local system in one foreground process — Temporal dev server,
// PostgreSQL, sandbox carriers, worker and receipt router — stopped cleanly by Ctrl-C.
import { join } from 'node:path';
import { loadConfig } from '../config';
import { dataDir } from '../config/paths';
import { resolveSecrets } from '../config/secrets';
import { startCodecServerForUi } from './codec-wiring';
import { createLogger } from './logger';
import { providePostgres } from './postgres';
import { startSandboxRegions } from './sandbox-regions';
import { STACK_DEV_SERVER_ARGS, startDevServer } from './temporal-server';
import type { DevServer } from './temporal-server';
import { RBM_WEBHOOK_PATH } from './receipts-server';
import { installTemporalRuntime, temporalMetricsAddress } from './temporal-runtime';
import { superviseGuards } from './guards';
import { ensureProbeSchedules } from './probes';
import { startWorker } from './worker';
import { startApiServer } from './api-server';
import { httpMeter } from '../metrics';
import { allowingSandboxReceiver } from './sandbox-callbacks';

async function main(): Promise<void> {
  const env = loadConfig();
  const logger = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  installTemporalRuntime(logger, temporalMetricsAddress(env));
  const dir = dataDir(env);
  const secrets = resolveSecrets({ ...env, DATA_DIR: dir });
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping…');
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => logger.warn({ err }, 'stop step failed'));
    }
    logger.info('stopped');
    process.exitCode = code;
    // Let the log transport flush; exit anyway if a stray handle would keep the process alive.
    setTimeout(() => process.exit(code), 2000).unref();
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const codecServer = await startCodecServerForUi(env, secrets, dir);
    stops.push(() => codecServer.server.close());

    let temporalAddress = env.TEMPORAL_ADDRESS;
    let server: DevServer | null = null;
    if (!temporalAddress) {
      logger.info('starting Temporal dev server');
      server = await startDevServer({
        dataDir: dir,
        port: env.TEMPORAL_DEV_PORT,
        uiPort: env.TEMPORAL_UI_PORT,
        namespace: env.TEMPORAL_NAMESPACE,
        logger,
        extraArgs: [...STACK_DEV_SERVER_ARGS],
      });
      stops.push(() => (server as DevServer).stop());
      temporalAddress = server.address;
    }

    logger.info(env.DATABASE_URL ? 'using DATABASE_URL' : 'starting embedded PostgreSQL');
    const pg = await providePostgres({
      databaseUrl: env.DATABASE_URL,
      dataDir: dir,
      port: env.EMBEDDED_PG_PORT,
      logger,
    });
    stops.push(() => pg.stop());

    let workerEnv = env;
    if (env.SANDBOX) {
      const carriers = await startSandboxRegions(env, {
        databaseUrl: pg.url,
        secrets,
        webhookUrl: `http://${env.RECEIPTS_HOST}:${env.RECEIPTS_PORT}${RBM_WEBHOOK_PATH}`,
        logger,
      });
      stops.push(() => carriers.stop());
      // The worker may call back to the sandbox's own receiver, and to no other private address.
      workerEnv = allowingSandboxReceiver(env, carriers.callbackReceiver);
    }

    const worker = await startWorker({
      // One process that replaces the last one: its build takes new messages (README, "Canary deploys").
      env: { ...workerEnv, WORKER_DEPLOYMENT_PROMOTE: 'always' },
      secrets,
      temporalAddress,
      databaseUrl: pg.url,
      logger,
    });
    stops.push(() => worker.shutdown());
    const guards = await superviseGuards(worker.client, env, logger.child({ component: 'guards' }));
    stops.push(() => Promise.resolve(guards.stop()));
    if (guards.regions.length) logger.info({ regions: guards.regions }, 'rollout guards running');
    const probed = await ensureProbeSchedules(worker.client, env, logger.child({ component: 'probes' }));
    if (probed.length)
      logger.info({ regions: probed, everyMs: env.PROBE_INTERVAL_MS }, 'synthetic probes scheduled');
    const api = await startApiServer({
      env,
      secrets,
      temporalAddress,
      databaseUrl: pg.url,
      logger,
      meter: httpMeter(worker.metrics, 'api'),
    });
    stops.push(() => api.close());
    logger.info(`REST API: ${api.url} (docs ${api.url}/docs; keys: npx switchboard apikey create)`);
    void worker.done.catch((err: unknown) => {
      logger.error({ err }, 'worker stopped with an error');
      void stopAll(1);
    });

    logger.info(
      { temporal: temporalAddress, receipts: worker.receiptsUrl, data: join(dir) },
      'Switchboard is running — Ctrl-C stops it',
    );
    if (server)
      logger.info(`Temporal Web UI: ${server.uiUrl}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows`);
    if (codecServer.browserEndpointFile)
      logger.info(
        `to read payloads in the Web UI, paste the URL in ${codecServer.browserEndpointFile} into its Codec Server setting`,
      );
    logger.info(`metrics: ${worker.metricsUrl}`);
    logger.info(`operator dashboard: ${worker.dashboardUrl}`);
    const sdkMetrics = temporalMetricsAddress(env);
    if (sdkMetrics) logger.info(`Temporal SDK metrics: http://${sdkMetrics}/metrics`);
    logger.info('try: npx switchboard send --to +15550100001 --text hi --wait');
  } catch (err) {
    logger.error({ err }, `start failed: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
