import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import {
  createDeliveryActivities,
  createEscrowActivities,
  createGuardActivities,
  createLawfulAccessActivities,
  createProbeActivities,
  createRoutingActivities,
  createShortlinkActivities,
} from '../activities';
import type { DeliveryPolicy } from '../domain/message';
import { ReceiptDispatcher } from '../channels/receipts/receipt-dispatcher';
import { smsInboxReceipt } from '../channels/receipts/receipt-intake';
import { ReceiptResolver } from '../channels/receipts/receipt-resolver';
import { ReceiptInbox } from '../store/receipt-inbox';
import { listenForReceipts } from './receipt-inbox-listener';
import { receiptIdCandidates } from '../channels/sms/delivery-receipt';
import { createDataConverter } from '../codec/data-converter';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { GuardStore } from '../store/rollout/guard-store';
import { RecipientPreferences } from '../store/rollout/recipient-preferences';
import { RolloutStore } from '../store/rollout/rollout-store';
import { AuditLog } from '../store/audit-log';
import { openDatabase } from '../store/database';
import { migrate } from '../store/migrate';
import { ensureAuditPartitions } from '../store/audit-retention';
import { PostgresCapabilityStore } from '../store/capability-store';
import { SmsSubmissions } from '../store/sms-submissions';
import { RcsSends } from '../store/rcs-sends';
import { EscrowStore } from '../store/escrow-store';
import { AccessRequests } from '../store/access-requests';
import { accessRequestKek } from '../config/access-request-kek';
import { startAccessRequestSweeper } from './access-request-sweeper';
import { EscrowArchiver } from '../e2ee/escrow-archive';
import { startReceiptsServer } from './receipts-server';
import { buildRegionalChannels } from './regional-channels';
import { startShortlinks } from './shortlinks';
import { MediaObjectStore } from '../store/media-objects';
import { PostgresKeyDirectory } from '../e2ee/key-directory';
import { keyDirectoryToken } from '../config/key-directory';
import { temporalReceiptSink } from './temporal-sink';
import { temporalWorkerOptions } from './temporal-runtime';
import * as metering from '../metrics';
import { DASHBOARD_PATH, registerDashboard } from '../dashboard/routes';
import { startStatusCallbacks } from './status-callbacks';
import { ProbeResults } from '../store/probe-results';
import { receiptInboxBacklog } from '../store/receipt-inbox-backlog';
import { startTtlTuning } from './capability-ttl-tuning';
import { probeRecipients } from './probes';
import { probeSealer } from './probe-sealer';

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  /** A client with the worker's data converter (guards, admin). */
  client: Client;
  shortlinksUrl: string;
  receiptsUrl: string;
  /** This process's Prometheus endpoint (METRICS_PORT). */
  metricsUrl: string;
  /** The operator dashboard, on the same server. */
  dashboardUrl: string;
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
  // What is open so far, closed in reverse if start-up fails half way (or when the worker stops).
  const opened: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const close of opened.reverse()) await close().catch(() => undefined);
  };
  try {
    return await assemble(options, opened, closeAll);
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function assemble(
  options: { env: Env; secrets: Secrets; temporalAddress: string; databaseUrl: string; logger: Logger },
  opened: Array<() => Promise<unknown>>,
  closeAll: () => Promise<void>,
): Promise<RunningWorker> {
  const { env, logger } = options;
  const db = openDatabase(options.databaseUrl);
  opened.push(() => db.end());
  await migrate(db, logger);
  // Appends create a missing month themselves; making the next ones now keeps that off the message path.
  await ensureAuditPartitions(db, new Date());
  const dataConverter = createDataConverter({
    codecKeys: options.secrets.codecKeys,
    activeKeyId: options.secrets.codecActiveKey,
  });

  const metrics = new metering.SwitchboardMetrics('worker');
  const smsSubmissions = new SmsSubmissions(db);
  const rcsSends = new RcsSends(db);
  const escrows = new EscrowStore(db);
  const channels = buildRegionalChannels(env, {
    sharedCapabilities: new PostgresCapabilityStore(db, deriveKey(options.secrets, 'capability-cache')),
    logger,
    meters: (region) => metering.channelMeters(metrics, region),
  });
  metering.watchSmppGateways(metrics, () => channels.smppStates());
  opened.push(() => Promise.all(channels.gateways().map((g) => g.close())));

  const clientConnection = await Connection.connect({ address: options.temporalAddress });
  opened.push(() => clientConnection.close());
  const client = new Client({
    connection: clientConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter,
  });
  const auditLog = new AuditLog(db, options.secrets.auditHashKey);
  const callbacks = startStatusCallbacks({
    env,
    db,
    secrets: options.secrets,
    audit: auditLog,
    metrics,
    logger,
  });
  opened.push(() => callbacks.stop());
  const inbox = new ReceiptInbox(db);
  // A deliver_sm is answered once its receipt is in the inbox (or refused, for the SMSC to redeliver).
  for (const region of channels.regions()) {
    channels
      .forRegion(region)
      .smsGateway.onReceipt((receipt) =>
        inbox.record(smsInboxReceipt(region, receipt)).then(() => undefined),
      );
  }
  const dispatcher = new ReceiptDispatcher({
    inbox,
    resolver: new ReceiptResolver({
      submissions: smsSubmissions,
      rcsSends,
      idCandidates: receiptIdCandidates,
    }),
    sink: callbacks.receiptSink(temporalReceiptSink(client)),
    logger: logger.child({ component: 'receipts' }),
    sweepMs: env.RECEIPT_INBOX_SWEEP_MS,
    orphanAfterMs: env.RECEIPT_ORPHAN_AFTER_MS,
    retryMaxMs: env.RECEIPT_RETRY_MAX_MS,
  });
  dispatcher.start();
  opened.push(() => dispatcher.stop());
  const inboxListener = listenForReceipts({ databaseUrl: options.databaseUrl, dispatcher, logger });
  opened.push(() => inboxListener.stop());
  // Uploads are sealed under the shortlink KEK (with keys of their own, store/media-objects.ts).
  const shortlinkKek = env.SHORTLINK_KEK
    ? Buffer.from(env.SHORTLINK_KEK, 'base64')
    : Buffer.from(deriveKey(options.secrets, 'shortlink-kek'), 'hex');
  const mediaObjects = new MediaObjectStore({ db, kek: shortlinkKek, ttlSeconds: env.SHORTLINK_TTL_SECONDS });
  const keyDirectory = new PostgresKeyDirectory(db, deriveKey(options.secrets, 'key-directory'));
  const receipts = await startReceiptsServer({
    host: env.RECEIPTS_HOST,
    port: env.RECEIPTS_PORT,
    clientToken: env.RCS_WEBHOOK_CLIENT_TOKEN,
    agentIds: channels.agentIds(),
    inbox,
    logger: logger.child({ component: 'receipts' }),
    // Apps claim recipients' MLS KeyPackages here (client-managed E2EE).
    keyDirectory: {
      directory: keyDirectory,
      bearerToken: keyDirectoryToken(env, options.secrets),
      escrowMembers: escrows,
    },
    mediaUploads: { store: mediaObjects, bearerToken: keyDirectoryToken(env, options.secrets) },
    meter: metering.httpMeter(metrics, 'receipts'),
  });
  opened.push(() => receipts.server.close());

  const accessRequests = new AccessRequests(db, accessRequestKek(env));
  const sweeper = startAccessRequestSweeper({
    requests: accessRequests,
    audit: auditLog,
    logger: logger.child({ component: 'lawful-access' }),
    everyMs: env.ACCESS_REQUEST_SWEEP_MS,
  });
  opened.push(() => Promise.resolve(sweeper.stop()));
  const shortlinks = await startShortlinks({
    env,
    db,
    kek: shortlinkKek,
    databaseUrl: options.databaseUrl,
    auditHashKey: options.secrets.auditHashKey,
    channels,
    logger,
    meter: metering.httpMeter(metrics, 'shortlinks'),
  });
  opened.push(() => shortlinks.server.close());

  const rollout = new RolloutStore(db, env.ROLLOUT_DEFAULT_PHASE);
  const guard = new GuardStore(db);
  metering.watchRolloutState(metrics, {
    regions: () => channels.regions(),
    guard: (region) => guard.get(region),
    rollout: (region) => rollout.current(region),
  });
  const probes = new ProbeResults(db);
  metering.watchProbeHealth(metrics, {
    health: () => probes.health(),
    configured: () =>
      Object.entries(probeRecipients(env)).flatMap(([region, rs]) => rs.map((r) => ({ ...r, region }))),
  });
  metering.watchReceiptInbox(metrics, () => receiptInboxBacklog(db));
  if (env.CAPABILITY_TTL_TUNING) {
    const tuning = startTtlTuning({
      probes,
      regions: channels.regions(),
      retune: (region, ttls) => channels.retuneCapabilityCache(region, ttls),
      logger: logger.child({ component: 'capability-ttl' }),
    });
    opened.push(() => Promise.resolve(tuning.stop()));
  }
  const metricsServer = await metering.startMetricsServer({
    host: env.METRICS_HOST,
    port: env.METRICS_PORT,
    metrics,
    routes: (server) => registerDashboard(server, { db, current: () => metering.metricsSnapshot(metrics) }),
  });
  opened.push(() => metricsServer.server.close());
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  opened.push(() => connection.close());
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    activities: {
      ...createRoutingActivities({
        policy: deliveryPolicyFrom(env),
        channels,
        rollout,
        preferences: new RecipientPreferences(db, deriveKey(options.secrets, 'preferences')),
        guard,
        cohortKey: deriveKey(options.secrets, 'cohort'),
        meter: metering.routingMeter(metrics),
      }),
      ...createDeliveryActivities({
        channels,
        rcsSends,
        smsSubmissions,
        audit: callbacks.outbox,
        meter: metering.deliveryMeter(metrics),
      }),
      ...createEscrowActivities({ escrowArchive: new EscrowArchiver(escrows) }),
      ...createShortlinkActivities({ shortlinks: shortlinks.links, mediaObjects }),
      ...createGuardActivities({ guard, rollout }),
      ...createLawfulAccessActivities({ escrows, requests: accessRequests, audit: auditLog }),
      ...createProbeActivities({
        channels,
        probes,
        meter: metering.probeMeter(metrics),
        sealer: probeSealer(keyDirectory),
      }),
    },
    dataConverter,
    // TEMPORAL_WORKER_OPTIONS: worker tuning, measured by the bench (docs/benchmarks.md).
    ...temporalWorkerOptions(env),
  });
  const done = worker.run().finally(closeAll);
  return {
    done,
    client,
    shortlinksUrl: shortlinks.url,
    receiptsUrl: receipts.url,
    metricsUrl: metricsServer.url,
    dashboardUrl: metricsServer.url.replace(/\/metrics$/, DASHBOARD_PATH),
    async shutdown() {
      worker.shutdown();
      await done;
    },
  };
}
