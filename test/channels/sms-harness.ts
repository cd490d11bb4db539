// Shared set-up for the SMS channel tests: a sandbox SMSC on an ephemeral port and gateways bound
// to it over real TCP. SMS_TEST_LOG=debug shows both sides' logs on stderr.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Logger } from 'pino';
import { SmppGateway } from '../../channels/sms/smpp-gateway';
import type { SmppGatewayOptions } from '../../channels/sms/smpp-gateway';
import type { SmsReceipt } from '../../channels/sms/types';
import { SandboxSmsc } from '../../sandbox/smsc';
import type { SandboxSmscOptions } from '../../sandbox/smsc';

export const SYSTEM_ID = 'switchboard';
export const PASSWORD = 'sekret';

export const logger: Logger = pino({ level: process.env.SMS_TEST_LOG ?? 'silent' }, pino.destination(2));

export async function startSmsc(
  options: Partial<SandboxSmscOptions> = {},
): Promise<{ smsc: SandboxSmsc; port: number }> {
  const smsc = new SandboxSmsc({
    systemId: SYSTEM_ID,
    password: PASSWORD,
    receiptDelayMs: 20,
    logger,
    ...options,
  });
  const { port } = await smsc.start();
  return { smsc, port };
}

export function gateway(port: number, options: Partial<SmppGatewayOptions> = {}): SmppGateway {
  return new SmppGateway({
    host: '127.0.0.1',
    port,
    systemId: SYSTEM_ID,
    password: PASSWORD,
    sourceAddr: 'Switchboard',
    submitTimeoutMs: 5000,
    rebindBackoffMs: 50,
    rebindBackoffMaxMs: 500,
    throttleBackoffMs: 20,
    queueFullBackoffMs: 40,
    logger,
    ...options,
  });
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every receipt a gateway reports, in arrival order. */
export function collectReceipts(gw: SmppGateway): SmsReceipt[] {
  const receipts: SmsReceipt[] = [];
  gw.onReceipt((r) => {
    receipts.push(r);
  });
  return receipts;
}

/** The sendSms activity's input for one message, as the workflow builds it. */
export function smsSendInput(to: string, region: string, text: string, messageId = randomUUID()) {
  return {
    messageId,
    workflowId: `deliver-${messageId}`,
    to,
    region,
    text,
    audit: {
      context: { tenant: 'default', recipient: to, region, flow: 'standard' as const },
      before: [],
      accepted: {
        messageId,
        seq: 0,
        event: 'accepted',
        channel: 'sms' as const,
        result: 'accepted' as const,
        errorCode: null,
        detail: {},
      },
    },
  };
}
