// The sandbox carriers (SMSC and RCS hub) in a process of their own, so their CPU is not
// counted as the worker's and they do not share its event loop, as real carriers would not.
// Started by bench/carriers.ts; answers its requests over the IPC channel.
import pino from 'pino';
import { loadConfig } from '../config';
import { startSandboxCarriers } from '../workers/sandbox-carriers';
import type { CarrierRequest, CarrierReply, CarrierStats } from './carriers';

async function main(): Promise<void> {
  const logger = pino({ level: 'silent' });
  const env = loadConfig({ ...process.env, LOG_LEVEL: 'silent', SANDBOX_RECEIPT_DELAY_MS: '0' });
  const carriers = await startSandboxCarriers(env, {
    webhookUrl: 'http://127.0.0.1:9/unset',
    logger,
    smppPort: 0,
    rcsPort: 0,
  });
  const send = (reply: CarrierReply) => process.send?.(reply);
  const stats = (): CarrierStats => {
    const cpu = process.cpuUsage();
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      capabilityLookups: carriers.rcsHub.counters.capabilityLookups,
      rcsSends: carriers.rcsHub.counters.sends,
      smscSubmits: carriers.smsc.stats.submits,
    };
  };
  process.on('message', (message: CarrierRequest) => {
    void (async () => {
      switch (message.cmd) {
        case 'stats':
          return send({ id: message.id, stats: stats() });
        case 'webhook':
          carriers.rcsHub.setWebhookUrl(message.url);
          return send({ id: message.id });
        case 'stop':
          await carriers.stop();
          send({ id: message.id });
          process.disconnect();
          return;
      }
    })();
  });
  // The bench went away (crash, Ctrl-C): do not linger.
  process.on('disconnect', () => process.exit(0));
  send({ id: 0, ready: { smppPort: carriers.smppPort, rcsHubUrl: carriers.rcsHubUrl } });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench carriers failed: ${err instanceof Error ? err.name : 'error'}\n`);
  process.exit(1);
});
