import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { DeliveryPolicy } from '../activities';
import { ReceiptRouter } from '../channels/receipts/receipt-router';
import { CapabilityCache } from '../channels/rcs/capability-cache';
import { CachedCapabilityProbe } from '../channels/rcs/cached-capability-probe';
import { RbmHubClient } from '../channels/rcs/rbm-client';
import { staticTokenProvider } from '../channels/rcs/token';
import { receiptIdCandidates } from '../channels/sms/delivery-receipt';
import { SmppGateway } from '../channels/sms/smpp-gateway';
import { createDataConverter } from '../codec/data-converter';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { GuardStore } from '../store/rollout/guard-store';
import { RecipientPreferences } from '../store/rollout/recipient-preferences';
import { RolloutStore } from '../store/rollout/rollout-store';
import { AuditLog } from '../store/audit-log';
import { migrate, openDatabase } from '../store/database';
import { PostgresCapabilityStore } from '../store/capability-store';
import { SmsSubmissions } from '../store/sms-submissions';
import { regionFor } from '../client/regions';
import { startReceiptsServer } from './receipts-server';
import { temporalReceiptSink } from './temporal-sink';

function parseRegionTtls(spec: string | undefined): Record<string, { freshTtlMs: number; maxAgeMs: number }> {
  const ttls: Record<string, { freshTtlMs: number; maxAgeMs: number }> = {};
  for (const entry of spec ? spec.split(',') : []) {
    const [region = '', times = ''] = entry.split('=');
    const [fresh, maxAge] = times.split('/').map(Number);
    ttls[region] = { freshTtlMs: fresh ?? 0, maxAgeMs: maxAge ?? 0 };
  }
  return ttls;
}

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  /** A client with the worker's data converter (guards, admin). */
  client: Client;
  receiptsUrl: string;
  shutdown(): Promise<void>;
}

export function deliveryPolicyFrom(env: Env): DeliveryPolicy {
  return {
    rcsMaxAttempts: env.RCS_MAX_ATTEMPTS,
    rcsRetryBackoffMs: env.RCS_RETRY_BACKOFF_MS,
    rcsReceiptTimeoutMs: env.RCS_RECEIPT_TIMEOUT_MS,
    smsReceiptTimeoutMs: env.SMS_RECEIPT_TIMEOUT_MS,
  };
}

/** Builds every adapter from config, then runs the Temporal worker and the receipt router. */
export async function startWorker(options: {
  env: Env;
  secrets: Secrets;
  temporalAddress: string;
  databaseUrl: string;
  logger: Logger;
}): Promise<RunningWorker> {
  const { env, logger } = options;
  const db = openDatabase(options.databaseUrl);
  await migrate(db, logger);
  const dataConverter = createDataConverter({
    codecKeys: options.secrets.codecKeys,
    activeKeyId: options.secrets.codecActiveKey,
  });

  const rcsHub = new RbmHubClient({
    baseUrl: env.RCS_HUB_URL,
    agentId: env.RCS_AGENT_ID,
    tokenProvider: staticTokenProvider(env.RCS_HUB_TOKEN),
    timeoutMs: env.RCS_HUB_TIMEOUT_MS,
    logger: logger.child({ component: 'rcs-hub' }),
  });
  const smsGateway = new SmppGateway({
    host: env.SMPP_HOST,
    port: env.SMPP_PORT,
    systemId: env.SMPP_SYSTEM_ID,
    password: env.SMPP_PASSWORD,
    sourceAddr: env.SMPP_SOURCE_ADDR,
    windowSize: env.SMPP_WINDOW,
    systemType: env.SMPP_SYSTEM_TYPE,
    bindMode: env.SMPP_BIND_MODE,
    ratePerSecond: env.SMPP_RATE_PER_SECOND,
    gsmDataCoding: env.SMPP_GSM_DATA_CODING,
    longMessages: env.SMPP_LONG_MESSAGES,
    submitTimeoutMs: env.SMPP_SUBMIT_TIMEOUT_MS,
    logger: logger.child({ component: 'smpp' }),
  });
  const smsSubmissions = new SmsSubmissions(db);

  const capabilities = new CachedCapabilityProbe(
    new CapabilityCache({
      hub: rcsHub,
      shared: new PostgresCapabilityStore(db, deriveKey(options.secrets, 'capability-cache')),
      ttls: { freshTtlMs: env.CAPABILITY_FRESH_TTL_MS, maxAgeMs: env.CAPABILITY_MAX_AGE_MS },
      regionOf: (msisdn) => regionFor(msisdn) ?? undefined,
      regionTtls: parseRegionTtls(env.CAPABILITY_REGION_TTLS),
      logger: logger.child({ component: 'capability-cache' }),
    }),
  );

  const clientConnection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({
    connection: clientConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter,
  });
  const router = new ReceiptRouter({
    lookup: smsSubmissions,
    sink: temporalReceiptSink(client),
    logger: logger.child({ component: 'receipts' }),
    idCandidates: receiptIdCandidates,
  });
  smsGateway.onReceipt((receipt) => {
    router
      .routeSmsReceipt(receipt)
      .catch((err: unknown) => logger.error({ err }, 'routing an SMS receipt failed'));
  });
  const receipts = await startReceiptsServer({
    host: env.RECEIPTS_HOST,
    port: env.RECEIPTS_PORT,
    clientToken: env.RCS_WEBHOOK_CLIENT_TOKEN,
    router,
    logger: logger.child({ component: 'receipts' }),
  });

  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({
      policy: deliveryPolicyFrom(env),
      capabilities,
      rcsHub,
      smsGateway,
      smsSubmissions,
      audit: new AuditLog(db, options.secrets.auditHashKey),
      rollout: new RolloutStore(db, env.ROLLOUT_DEFAULT_PHASE),
      preferences: new RecipientPreferences(db, deriveKey(options.secrets, 'preferences')),
      guard: new GuardStore(db),
      cohortKey: deriveKey(options.secrets, 'cohort'),
    }),
    dataConverter,
  });
  const done = worker.run().finally(async () => {
    await receipts.server.close();
    await smsGateway.close();
    await clientConnection.close();
    await connection.close();
    await db.end();
  });
  return {
    done,
    client,
    receiptsUrl: receipts.url,
    async shutdown() {
      worker.shutdown();
      await done;
    },
  };
}
