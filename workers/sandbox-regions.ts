import type { Logger } from 'pino';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { PostgresKeyDirectory } from '../e2ee/key-directory';
import { openDatabase } from '../store/database';
import { migrate } from '../store/migrate';
import { demoE2eePhones, startSandboxCarriers } from './sandbox-carriers';
import type { SandboxCarriers } from './sandbox-carriers';
import { startSandboxCallbacks } from './sandbox-callbacks';

export interface SandboxRegions {
  /** The home region's carriers. */
  home: SandboxCarriers;
  /** Every region of REGION_ENDPOINTS, with carriers that refuse other regions' numbers. */
  others: Map<string, SandboxCarriers>;
  /** The `default` tenant's webhook. */
  callbackReceiver: { url: string };
  stop(): Promise<void>;
}

/**
 * The sandbox carriers of every region and the sandbox callback receiver, on the ports the config names (`npm start`, `npm run
 * cluster`). The sandbox phones publish their MLS KeyPackages in Switchboard's key directory.
 */
export async function startSandboxRegions(
  env: Env,
  options: { databaseUrl: string; secrets: Secrets; webhookUrl: string; logger: Logger },
): Promise<SandboxRegions> {
  const { logger } = options;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const sandboxDb = openDatabase(options.databaseUrl, 2);
    stops.push(() => sandboxDb.end());
    await migrate(sandboxDb, logger);
    const keyDirectory = new PostgresKeyDirectory(sandboxDb, deriveKey(options.secrets, 'key-directory'));
    // The `default` tenant's webhook: status callbacks arrive, signed, and are logged.
    const callbackReceiver = await startSandboxCallbacks(env, {
      db: sandboxDb,
      secrets: options.secrets,
      logger: logger.child({ component: 'sandbox-callbacks' }),
    });
    stops.push(() => callbackReceiver.close());
    logger.info({ url: callbackReceiver.url }, 'sandbox callback receiver up');
    const home = await startSandboxCarriers(env, {
      webhookUrl: options.webhookUrl,
      logger: logger.child({ component: 'sandbox' }),
      keyDirectory,
      e2eePhones: demoE2eePhones().filter((n) => n.startsWith('+1')),
    });
    stops.push(() => home.stop());
    logger.info(
      { region: env.HOME_REGION, smpp: home.smppPort, rcsHub: home.rcsHubUrl },
      'sandbox carriers up',
    );
    const others = new Map<string, SandboxCarriers>();
    for (const [region, endpoint] of Object.entries(env.REGION_ENDPOINTS)) {
      const regional = await startSandboxCarriers(env, {
        webhookUrl: options.webhookUrl,
        logger: logger.child({ component: 'sandbox', region }),
        smppPort: endpoint.smppPort,
        rcsPort: Number(new URL(endpoint.rcsHubUrl).port || 80),
        region,
        keyDirectory,
        e2eePhones: demoE2eePhones().filter((n) => !n.startsWith('+1')),
      });
      stops.push(() => regional.stop());
      others.set(region, regional);
      logger.info({ region, smpp: regional.smppPort, rcsHub: regional.rcsHubUrl }, 'sandbox carriers up');
    }
    return { home, others, callbackReceiver, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
