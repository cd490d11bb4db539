import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createDataConverter } from '../codec/data-converter';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { temporalConnectionTo } from '../config/temporal-connection';
import { GuardStore } from '../store/rollout/guard-store';
import { RolloutStore } from '../store/rollout/rollout-store';
import { openDatabase } from '../store/database';
import { migrate } from '../store/migrate';
import { ensureAuditPartitions } from '../store/audit-retention';
import { PostgresCapabilityStore } from '../store/capability-store';
import { buildRegionalChannels, rcsAgentIds } from './regional-channels';
import { shortlinkMaker, startShortlinks } from './shortlinks';
import { MediaObjectStore } from '../store/media-objects';
import * as metering from '../metrics';
import { ALL_SERVICES } from './service-roles';
import type { ServiceRole } from './service-roles';
import type { RoleContext } from './roles/context';
import { startReceiptRouter } from './roles/receipt-router';
import { createDeliveryWorker } from './roles/delivery-worker';
import { createGuardsWorker, createLawfulAccessWorker } from './roles/concern-workers';
import { DASHBOARD_PATH, registerDashboard } from '../dashboard/routes';
import { AuditLog } from '../store/audit-log';
import { ProbeResults } from '../store/probe-results';
import { receiptInboxBacklog } from '../store/receipt-inbox-backlog';
import { startTtlTuning } from './capability-ttl-tuning';
import { probeRecipients } from './probes';
import { startStatusCallbacks } from './status-callbacks';
import { deploymentVersion } from '../config/worker-deployment';
import { WorkerDeployments } from '../client/worker-deployments';
import { DeploymentChanges } from '../store/deployment-changes';
import { takeNewMessagesIfFirst } from './worker-deployment';
import { ReceiptInbox } from '../store/receipt-inbox';
import { recipientMatchHash } from '../channels/receipts/recipient-match';
import { recordSmsReceipts } from '../channels/receipts/receipt-intake';

export { deliveryPolicyFrom } from './roles/delivery-worker';

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  /** A client with the worker's data converter (guards, admin). */
  client: Client;
  /** The secure-link page; '' when this process does not run the shortlinks role. */
  shortlinksUrl: string;
  /** The receipt router's server; '' when this process does not run the receipts role. */
  receiptsUrl: string;
  /** This process's Prometheus endpoint (METRICS_PORT). */
  metricsUrl: string;
  /** The operator dashboard, on the same server. */
  dashboardUrl: string;
  /** The process's registry, for the roles started beside the worker (the API). */
  metrics: metering.SwitchboardMetrics;
  shutdown(): Promise<void>;
}

export interface WorkerOptions {
  env: Env;
  secrets: Secrets;
  temporalAddress: string;
  databaseUrl: string;
  logger: Logger;
  /** The roles this process runs (workers/service-roles.ts); all of them by default, as `npm start`. */
  services?: ReadonlySet<ServiceRole>;
}

/** Builds every adapter the chosen roles need from config, then runs their Temporal workers and servers. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  // What is open so far, closed in reverse if start-up fails half way (or when the worker stops).
  const opened: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    // Once: a start-up that fails after the workers ran closes through both paths.
    for (const close of opened.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    return await assemble(options, opened, closeAll);
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function openContext(options: WorkerOptions, opened: RoleContext['opened']): Promise<RoleContext> {
  const { env, logger } = options;
  const db = openDatabase(options.databaseUrl, env.DATABASE_POOL_MAX);
  opened.push(() => db.end());
  await migrate(db, logger);
  // Appends create a missing month themselves; making the next ones now keeps that off the message path.
  await ensureAuditPartitions(db, new Date());
  const dataConverter = createDataConverter({
    codecKeys: options.secrets.codecKeys,
    activeKeyId: options.secrets.codecActiveKey,
  });
  const temporal = temporalConnectionTo(env, options.temporalAddress);
  const clientConnection = await Connection.connect(temporal);
  opened.push(() => clientConnection.close());
  const client = new Client({
    connection: clientConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter,
  });
  const connection = await NativeConnection.connect(temporal);
  opened.push(() => connection.close());
  let bundle: Promise<{ code: string }> | null = null;
  return {
    ...options,
    db,
    dataConverter,
    metrics: new metering.SwitchboardMetrics('worker'),
    client,
    connection,
    // The bundler narrates webpack through the SDK's logger (ours, quiet unless debugging).
    workflowBundle: () =>
      (bundle ??= bundleWorkflowCode({
        workflowsPath: require.resolve('../workflows'),
        logger: Runtime.instance().logger,
      })),
    opened,
  };
}

async function assemble(
  options: WorkerOptions,
  opened: RoleContext['opened'],
  closeAll: () => Promise<void>,
): Promise<RunningWorker> {
  const services = options.services ?? ALL_SERVICES;
  const runs = (role: ServiceRole) => services.has(role);
  const ctx = await openContext(options, opened);
  const { env, db, metrics, logger } = ctx;
  // The carriers' binds live where messages are sent (and link codes are texted) only.
  const channels =
    runs('worker') || runs('shortlinks')
      ? buildRegionalChannels(env, {
          sharedCapabilities: new PostgresCapabilityStore(db, deriveKey(options.secrets, 'capability-cache')),
          logger,
          meters: (region) => metering.channelMeters(metrics, region),
        })
      : null;
  if (channels) {
    // An SMSC sends a receipt to any receiving bind of the account, so every process that binds
    // (delivery workers, and the page's for link codes) writes receipts to the inbox before it
    // answers; the receipt router takes them from there.
    recordSmsReceipts(
      channels,
      new ReceiptInbox(db),
      recipientMatchHash(deriveKey(options.secrets, 'receipt-match')),
    );
    metering.watchSmppGateways(metrics, () => channels.smppStates());
    opened.push(() => Promise.all(channels.gateways().map((g) => g.close())));
  }
  // Uploads are sealed under the shortlink KEK (with keys of their own, store/media-objects.ts).
  const shortlinkKek = env.SHORTLINK_KEK
    ? Buffer.from(env.SHORTLINK_KEK, 'base64')
    : Buffer.from(deriveKey(options.secrets, 'shortlink-kek'), 'hex');
  const mediaObjects = new MediaObjectStore({ db, kek: shortlinkKek, ttlSeconds: env.SHORTLINK_TTL_SECONDS });
  // Status events are written with the audit rows (delivery) and with read receipts (router); each
  // such process also sends them, sharing the outbox with the others.
  const callbacks =
    runs('worker') || runs('receipts')
      ? startStatusCallbacks({
          env,
          db,
          secrets: options.secrets,
          audit: new AuditLog(db, options.secrets.auditHashKey),
          metrics,
          logger,
        })
      : null;
  if (callbacks) opened.push(() => callbacks.stop());
  const receiptsUrl =
    callbacks && runs('receipts')
      ? await startReceiptRouter(ctx, { agentIds: rcsAgentIds(env), mediaObjects, callbacks })
      : '';
  const linkOptions = channels && {
    env,
    db,
    kek: shortlinkKek,
    auditHashKey: options.secrets.auditHashKey,
    channels,
  };
  const page =
    linkOptions && runs('shortlinks')
      ? await startShortlinks({
          ...linkOptions,
          databaseUrl: options.databaseUrl,
          logger,
          meter: metering.httpMeter(metrics, 'shortlinks'),
        })
      : null;
  if (page) opened.push(() => page.server.close());

  const rollout = new RolloutStore(db, env.ROLLOUT_DEFAULT_PHASE);
  const guard = new GuardStore(db);
  metering.watchRolloutState(metrics, {
    regions: () => channels?.regions() ?? [],
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
  if (channels && env.CAPABILITY_TTL_TUNING) {
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
  const workers: Worker[] = [];
  const version = deploymentVersion(env);
  const delivers = !!(linkOptions && callbacks && runs('worker'));
  if (linkOptions && callbacks && delivers) {
    // Without the page in this process, links point at its public address.
    const links = page?.links ?? shortlinkMaker(linkOptions, env.SHORTLINK_BASE_URL);
    workers.push(
      await createDeliveryWorker(ctx, {
        channels: linkOptions.channels,
        links,
        mediaObjects,
        rollout,
        guard,
        audit: callbacks.outbox,
        probes,
        version,
      }),
    );
  }
  if (runs('lawful-access')) workers.push(await createLawfulAccessWorker(ctx));
  if (runs('guards')) workers.push(await createGuardsWorker(ctx, { guard, rollout }));
  // A process of servers alone (receipts, the page) runs until it is shut down.
  let stop = () => undefined as void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const done = Promise.all([...workers.map((w) => w.run()), ...(workers.length ? [] : [stopped])])
    .then(() => undefined)
    .finally(closeAll);
  if (delivers) {
    const deployments = new WorkerDeployments(
      ctx.client,
      env.TEMPORAL_NAMESPACE,
      new DeploymentChanges(db),
      `${hostname()}:${process.pid} worker start`,
    );
    await takeNewMessagesIfFirst({
      deployments,
      version,
      policy: env.WORKER_DEPLOYMENT_PROMOTE,
      logger,
    }).catch(async (err: unknown) => {
      for (const w of workers) w.shutdown();
      await done.catch(() => undefined);
      throw err;
    });
  }
  return {
    done,
    client: ctx.client,
    shortlinksUrl: page?.url ?? '',
    receiptsUrl,
    metricsUrl: metricsServer.url,
    metrics,
    dashboardUrl: metricsServer.url.replace(/\/metrics$/, DASHBOARD_PATH),
    async shutdown() {
      for (const w of workers) w.shutdown();
      stop();
      await done;
    },
  };
}
