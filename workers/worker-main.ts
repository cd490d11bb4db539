// The worker alone (worker + receipt router), for deployments where Temporal, PostgreSQL and
// the carriers run elsewhere — the `worker` service of docker-compose.yml.
import { ConfigError, loadConfig } from '../config';
import { dataDir } from '../config/paths';
import { resolveSecrets } from '../config/secrets';
import { createLogger } from './logger';
import { installTemporalRuntime, temporalMetricsAddress } from './temporal-runtime';
import { superviseGuards } from './guards';
import { ensureProbeSchedules } from './probes';
import { startWorker } from './worker';

async function main(): Promise<void> {
  const env = loadConfig();
  if (!env.TEMPORAL_ADDRESS)
    throw new ConfigError('TEMPORAL_ADDRESS: required when running the worker alone');
  if (!env.DATABASE_URL) throw new ConfigError('DATABASE_URL: required when running the worker alone');
  const logger = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  installTemporalRuntime(logger, temporalMetricsAddress(env));
  const worker = await startWorker({
    env,
    secrets: resolveSecrets({ ...env, DATA_DIR: dataDir(env) }),
    temporalAddress: env.TEMPORAL_ADDRESS,
    databaseUrl: env.DATABASE_URL,
    logger,
  });
  const guards = await superviseGuards(worker.client, env, logger.child({ component: 'guards' }));
  await ensureProbeSchedules(worker.client, env, logger.child({ component: 'probes' }));
  const stop = () => {
    guards.stop();
    void worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info(
    { receipts: worker.receiptsUrl, metrics: worker.metricsUrl, dashboard: worker.dashboardUrl },
    'worker running',
  );
  await worker.done;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
