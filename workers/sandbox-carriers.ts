import type { Logger } from 'pino';
import type { Env } from '../config';
import { SandboxRcsHub } from '../sandbox/rcs-hub';
import { SandboxSmsc } from '../sandbox/smsc';
import { SandboxPhones } from '../sandbox/phones';
import { SANDBOX_PROBE_RECIPIENTS } from '../sandbox/number-plan';
import { PostgresKeyDirectory } from '../e2ee/key-directory';
import type { KeyPackagePublisher, KeyPackageSource } from '../e2ee/key-directory';
import type { Database } from '../store/database';

export type SandboxKeyDirectory = KeyPackagePublisher & KeyPackageSource;

export interface SandboxCarriers {
  smsc: SandboxSmsc;
  /** The simulated MLS phones, when a key directory (or a database) was given. */
  phones: SandboxPhones | undefined;
  /** Where the phones publish their KeyPackages: serve it to apps with keyDirectoryRoutes. */
  keyDirectory: SandboxKeyDirectory | undefined;
  rcsHub: SandboxRcsHub;
  smppPort: number;
  rcsHubUrl: string;
  stop(): Promise<void>;
}

/** The sandbox SMSC and RCS hub, on the ports the worker's config points at. */
export async function startSandboxCarriers(
  env: Env,
  options: {
    webhookUrl: string;
    logger: Logger;
    smppPort?: number;
    rcsPort?: number;
    region?: string;
    /** With a key directory, E2EE numbers are real MLS phones that publish KeyPackages and decrypt. */
    keyDirectory?: SandboxKeyDirectory;
    /**
     * Or a database (migrated): the phones then publish to a PostgresKeyDirectory on it, keyed by
     * `keyDirectoryHashKey` — the same key the worker's key directory routes use.
     */
    db?: Database;
    keyDirectoryHashKey?: string | Buffer;
    /** Phones switched on at start, so apps find their KeyPackages before any lookup. */
    e2eePhones?: string[];
  },
): Promise<SandboxCarriers> {
  const smsc = new SandboxSmsc({
    host: env.SANDBOX_HOST,
    port: options.smppPort ?? env.SMPP_PORT,
    systemId: env.SMPP_SYSTEM_ID,
    password: env.SMPP_PASSWORD,
    receiptDelayMs: env.SANDBOX_RECEIPT_DELAY_MS,
    logger: options.logger,
  });
  const keyDirectory = sandboxKeyDirectory(options);
  const phones = keyDirectory ? new SandboxPhones({ directory: keyDirectory }) : undefined;
  const rcsHub = new SandboxRcsHub({
    ...(phones ? { phones } : {}),
    host: env.SANDBOX_HOST,
    port: options.rcsPort ?? Number(new URL(env.RCS_HUB_URL).port || 80),
    agentId: env.RCS_AGENT_ID,
    bearerToken: env.RCS_HUB_TOKEN,
    clientToken: env.RCS_WEBHOOK_CLIENT_TOKEN,
    webhookUrl: options.webhookUrl,
    ...(options.region ? { region: options.region } : {}),
    deliveryDelayMs: env.SANDBOX_RECEIPT_DELAY_MS,
    logger: options.logger,
  });
  for (const msisdn of phones ? (options.e2eePhones ?? []) : []) await phones?.ensure(msisdn);
  const { port: smppPort } = await smsc.start();
  const { url: rcsHubUrl } = await rcsHub.start();
  return {
    smsc,
    phones,
    keyDirectory,
    rcsHub,
    smppPort,
    rcsHubUrl,
    async stop() {
      await rcsHub.stop();
      await smsc.stop();
    },
  };
}

function sandboxKeyDirectory(options: {
  keyDirectory?: SandboxKeyDirectory;
  db?: Database;
  keyDirectoryHashKey?: string | Buffer;
}): SandboxKeyDirectory | undefined {
  if (options.keyDirectory) return options.keyDirectory;
  if (!options.db) return undefined;
  if (options.keyDirectoryHashKey === undefined) {
    throw new Error('startSandboxCarriers: db needs keyDirectoryHashKey');
  }
  return new PostgresKeyDirectory(options.db, options.keyDirectoryHashKey);
}

/** The E2EE numbers of the number plan that are online from the start: 20 per E2EE prefix, and the probes'. */
export function demoE2eePhones(count = 20): string[] {
  const us = Array.from({ length: count }, (_, i) => `+1555010${String(i + 1).padStart(4, '0')}`);
  const eu = Array.from({ length: count }, (_, i) => `+447700900${String(i + 100).padStart(3, '0')}`);
  const probes = Object.values(SANDBOX_PROBE_RECIPIENTS)
    .flat()
    .filter((r) => r.capability === 'rcs-e2ee')
    .map((r) => r.to);
  return [...us, ...eu, ...probes];
}
