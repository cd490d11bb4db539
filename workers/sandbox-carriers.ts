import type { Logger } from 'pino';
import type { Env } from '../config';
import { SandboxRcsHub } from '../sandbox/rcs-hub';
import { SandboxSmsc } from '../sandbox/smsc';

export interface SandboxCarriers {
  smsc: SandboxSmsc;
  rcsHub: SandboxRcsHub;
  smppPort: number;
  rcsHubUrl: string;
  stop(): Promise<void>;
}

/** The sandbox SMSC and RCS hub, on the ports the worker's config points at. */
export async function startSandboxCarriers(
  env: Env,
  options: { webhookUrl: string; logger: Logger; smppPort?: number; rcsPort?: number; region?: string },
): Promise<SandboxCarriers> {
  const smsc = new SandboxSmsc({
    host: env.SANDBOX_HOST,
    port: options.smppPort ?? env.SMPP_PORT,
    systemId: env.SMPP_SYSTEM_ID,
    password: env.SMPP_PASSWORD,
    receiptDelayMs: env.SANDBOX_RECEIPT_DELAY_MS,
    logger: options.logger,
  });
  const rcsHub = new SandboxRcsHub({
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
  const { port: smppPort } = await smsc.start();
  const { url: rcsHubUrl } = await rcsHub.start();
  return {
    smsc,
    rcsHub,
    smppPort,
    rcsHubUrl,
    async stop() {
      await rcsHub.stop();
      await smsc.stop();
    },
  };
}
