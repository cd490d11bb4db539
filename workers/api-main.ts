// The REST API alone, for deployments where Temporal, PostgreSQL and the worker run elsewhere.
import { ConfigError, loadConfig } from '../config';
import { dataDir } from '../config/paths';
import { resolveSecrets } from '../config/secrets';
import { createLogger } from './logger';
import { startApiServer } from './api-server';

async function main(): Promise<void> {
  const env = loadConfig();
  if (!env.TEMPORAL_ADDRESS) throw new ConfigError('TEMPORAL_ADDRESS: required when running the API alone');
  if (!env.DATABASE_URL) throw new ConfigError('DATABASE_URL: required when running the API alone');
  const logger = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  const api = await startApiServer({
    env,
    secrets: resolveSecrets({ ...env, DATA_DIR: dataDir(env) }),
    temporalAddress: env.TEMPORAL_ADDRESS,
    databaseUrl: env.DATABASE_URL,
    logger,
  });
  const stop = () => void api.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info({ url: api.url }, 'REST API running');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
