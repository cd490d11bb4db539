// API send → delivered beside the direct client: one sender at a time each (the latency floor),
// RCS numbers, on a worker of its own. Both wait for the outcome the same way (the workflow's
// result), so the difference is the REST API's cost: HTTP, API-key check, validation, the
// idempotency record and the start. An app polling GET /v1/messages/{id} adds its poll interval.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { SwitchboardClient } from '../client/switchboard-client';
import { createDataConverter } from '../codec/data-converter';
import { deriveKey } from '../config/secrets';
import { ApiKeyStore } from '../store/api-keys';
import { openDatabase } from '../store/database';
import { startApiServer } from '../workers/api-server';
import { RBM_WEBHOOK_PATH } from '../workers/receipts-server';
import { startWorker } from '../workers/worker';
import { closedLoop } from './load';
import type { CallOutcome } from './load';
import { recipientMix } from './numbers';
import type { Harness } from './phases';
import { progress } from './progress';
import { latencyStats } from './stats';
import type { LatencyStats } from './stats';

export interface ApiComparison {
  /** Send → delivered, ms, one sender: through SwitchboardClient (Temporal directly). */
  direct: LatencyStats;
  /** The same through POST /v1/messages (with an Idempotency-Key, as apps send). */
  api: LatencyStats;
  /** POST /v1/messages alone: request → 202. */
  apiAccept: LatencyStats;
  errors: { direct: number; api: number };
}

const delivered = (status: string, channel: string | null): CallOutcome =>
  status === 'delivered' && channel === 'rcs' ? null : `${status}-${channel ?? 'none'}`;

export async function apiVersusDirect(h: Harness): Promise<ApiComparison> {
  const { stack, plan } = h;
  const env = stack.workerEnv({ TEMPORAL_TASK_QUEUE: 'bench-api', API_PORT: '0', API_RATE_LIMIT: '1000000' });
  progress('API vs direct: starting a worker and the REST API');
  const worker = await startWorker({
    env,
    secrets: stack.secrets,
    temporalAddress: stack.temporal.address,
    databaseUrl: stack.databaseUrl,
    logger: h.logger,
  });
  const stops: Array<() => Promise<unknown>> = [() => worker.shutdown()];
  try {
    await stack.carriers.setWebhookUrl(`${worker.receiptsUrl}${RBM_WEBHOOK_PATH}`);
    const api = await startApiServer({
      env,
      secrets: stack.secrets,
      temporalAddress: stack.temporal.address,
      databaseUrl: stack.databaseUrl,
      logger: h.logger,
    });
    stops.push(() => api.close());
    const client = await SwitchboardClient.connect({
      address: stack.temporal.address,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      dataConverter: createDataConverter({
        codecKeys: stack.secrets.codecKeys,
        activeKeyId: stack.secrets.codecActiveKey,
      }),
      messageIdKey: deriveKey(stack.secrets, 'message-id'),
    });
    stops.push(() => client.close());
    const db = openDatabase(stack.databaseUrl, 1);
    stops.push(() => db.end());
    const keys = new ApiKeyStore(db);
    await keys.createTenant('bench');
    const { apiKey } = await keys.create('bench', ['send', 'read']);

    const directMix = recipientMix('+1555020', 16, 7001);
    progress(`API vs direct: direct client, one sender, ${(plan.floorMs / 1000).toFixed(0)} s`);
    const direct = await closedLoop(
      { label: 'direct client floor', durationMs: plan.floorMs, concurrency: 1 },
      async () => {
        const sent = await client.send({ to: directMix.next(), text: 'bench', e2ee: 'off' });
        const outcome = await client.waitForOutcome(sent.messageId);
        return delivered(outcome.status, outcome.channel);
      },
    );
    const apiMix = recipientMix('+1555020', 17, 7002);
    const accepts: number[] = [];
    progress(`API vs direct: POST /v1/messages, one sender, ${(plan.floorMs / 1000).toFixed(0)} s`);
    const viaApi = await closedLoop(
      { label: 'REST API floor', durationMs: plan.floorMs, concurrency: 1 },
      async () => {
        const startedAt = performance.now();
        const response = await request(`${api.url}/v1/messages`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': randomUUID(),
          },
          body: JSON.stringify({ to: apiMix.next(), text: 'bench', e2ee: 'off' }),
        });
        const accepted = (await response.body.json()) as { messageId?: string };
        if (response.statusCode !== 202 || !accepted.messageId) return `http-${response.statusCode}`;
        accepts.push(performance.now() - startedAt);
        const outcome = await client.waitForOutcome(accepted.messageId);
        return delivered(outcome.status, outcome.channel);
      },
    );
    const count = (errors: Record<string, number>) => Object.values(errors).reduce((s, n) => s + n, 0);
    return {
      direct: latencyStats(direct.latencies),
      api: latencyStats(viaApi.latencies),
      apiAccept: latencyStats(accepts),
      errors: { direct: count(direct.errors), api: count(viaApi.errors) },
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** The report's lines for it. */
export function renderApiComparison(c: ApiComparison): string {
  const row = (label: string, s: LatencyStats, errors: number | null) =>
    `| ${label.padEnd(34)} | ${String(s.count).padStart(5)} | ${s.p50.toFixed(1).padStart(7)} | ${s.p95.toFixed(1).padStart(7)} | ${String(errors ?? '–').padStart(6)} |`;
  return [
    '',
    'REST API vs direct client (RCS, one sender, send → delivered, ms)',
    '',
    '| path                               |  sent |     p50 |     p95 | failed |',
    '| ---------------------------------- | ----: | ------: | ------: | -----: |',
    row('direct client (Temporal)', c.direct, c.errors.direct),
    row('POST /v1/messages', c.api, c.errors.api),
    row('  of which request → 202', c.apiAccept, null),
  ].join('\n');
}
