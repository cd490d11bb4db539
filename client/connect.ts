import { createDataConverter } from '../codec/data-converter';
import { loadConfig } from '../config';
import { dataDir } from '../config/paths';
import { resolveSecrets } from '../config/secrets';
import { SwitchboardClient } from './switchboard-client';

/** A client configured the way the worker is: same env, same codec keys. */
export async function connectFromEnv(env = loadConfig()): Promise<SwitchboardClient> {
  const secrets = resolveSecrets({ ...env, DATA_DIR: dataDir(env) });
  return SwitchboardClient.connect({
    address: env.TEMPORAL_ADDRESS ?? `127.0.0.1:${env.TEMPORAL_DEV_PORT}`,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    dataConverter: createDataConverter({ codecKeys: secrets.codecKeys, activeKeyId: secrets.codecActiveKey }),
  });
}
