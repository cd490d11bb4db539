// The sandbox carriers alone (SMSC simulator and RCS hub simulator) — the `sandbox` service of
// docker-compose.yml. RCS events go to SANDBOX_WEBHOOK_URL.
import { loadConfig } from '../config';
import { createLogger } from './logger';
import { startSandboxCarriers } from './sandbox-carriers';
import { SwitchboardMetrics, startMetricsServer } from '../metrics';

async function main(): Promise<void> {
  const env = loadConfig();
  const logger = createLogger(env.LOG_LEVEL, env.LOG_FORMAT);
  const webhookUrl = env.SANDBOX_WEBHOOK_URL ?? `http://${env.RECEIPTS_HOST}:${env.RECEIPTS_PORT}/rbm/events`;
  const carriers = await startSandboxCarriers(env, { webhookUrl, logger });
  // A process of its own: its /metrics has the process metrics only (the carriers are a test peer).
  const metrics = await startMetricsServer({
    host: env.METRICS_HOST,
    port: env.METRICS_PORT,
    metrics: new SwitchboardMetrics('sandbox'),
  });
  logger.info(
    { smpp: carriers.smppPort, rcsHub: carriers.rcsHubUrl, metrics: metrics.url },
    'sandbox carriers running',
  );
  const stop = () => void Promise.all([carriers.stop(), metrics.server.close()]).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
