// The deployment entry point: `node dist/workers/main.js --services worker,receipts,…` runs the
// chosen roles (workers/service-roles.ts; all of them by default) against a Temporal reached as
// every Temporal app does (config/temporal-connection.ts) and the PostgreSQL at DATABASE_URL.
// `npm run cluster` starts one process per role this way; docker-compose.yml does the same.
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config';
import { dataDir } from '../config/paths';
import { resolveSecrets } from '../config/secrets';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createLogger } from './logger';
import { installTemporalRuntime, temporalMetricsAddress } from './temporal-runtime';
import { superviseGuards } from './guards';
import { ALL_SERVICES, SERVICE_ROLES, parseServices } from './service-roles';
import { startWorker } from './worker';
import { ensureProbeSchedules } from './probes';
import { startApiServer } from './api-server';
import { httpMeter } from '../metrics';

async function main(argv: string[]): Promise<void> {
  const options = new Command('main')
    .description('Runs Switchboard roles against an existing Temporal and PostgreSQL')
    .option(
      '--services <list>',
      `comma-separated roles: ${Object.entries(SERVICE_ROLES)
        .map(([name, what]) => `${name} (${what})`)
        .join(', ')}`,
      [...ALL_SERVICES].join(','),
    )
    .parse(argv)
    .opts<{ services: string }>();
  const services = parseServices(options.services);
  const env = loadConfig();
  if (!env.DATABASE_URL) throw new ConfigError('DATABASE_URL: required when running roles on their own');
  const logger = createLogger(env.LOG_LEVEL, env.LOG_FORMAT).child({ services: [...services].join(',') });
  installTemporalRuntime(logger, temporalMetricsAddress(env));
  const secrets = resolveSecrets({ ...env, DATA_DIR: dataDir(env) });
  const temporalAddress = temporalConnectionOptions(env).address;
  const worker = await startWorker({
    env,
    secrets,
    temporalAddress,
    databaseUrl: env.DATABASE_URL,
    logger,
    services,
  });
  const guards = services.has('guards')
    ? await superviseGuards(worker.client, env, logger.child({ component: 'guards' }))
    : null;
  if (services.has('guards'))
    await ensureProbeSchedules(worker.client, env, logger.child({ component: 'probes' }));
  const api = services.has('api')
    ? await startApiServer({
        env,
        secrets,
        temporalAddress,
        databaseUrl: env.DATABASE_URL,
        logger,
        meter: httpMeter(worker.metrics, 'api'),
      })
    : null;
  const stop = () => {
    guards?.stop();
    void api?.close();
    void worker.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info(
    {
      receipts: worker.receiptsUrl || undefined,
      api: api?.url,
      metrics: worker.metricsUrl,
      dashboard: worker.dashboardUrl,
      pid: process.pid,
    },
    'switchboard roles running',
  );
  // A supervisor that started this process with an IPC channel (npm run cluster) learns it is up,
  // whatever LOG_LEVEL hides.
  process.send?.({ ready: true, receiptsUrl: worker.receiptsUrl, metricsUrl: worker.metricsUrl });
  await worker.done;
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
