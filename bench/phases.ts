// The measured phases: baseline A (bare workflow), baseline B (raw SMPP), the pipeline of this
// checkout per path (closed loop, open loop, one at a time), and the in-process micro measurements.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { CapabilityCache } from '../channels/rcs/capability-cache';
import { CachedCapabilityProbe } from '../channels/rcs/cached-capability-probe';
import { RbmHubClient } from '../channels/rcs/rbm-client';
import { staticTokenProvider } from '../channels/rcs/token';
import { smppGatewayOptions } from '../workers/regional-channels';
import { SmppGateway } from '../channels/sms/smpp-gateway';
import { SwitchboardClient } from '../client/switchboard-client';
import { createDataConverter } from '../codec/data-converter';
import { deriveKey } from '../config/secrets';
import type { DeliveryOutcome } from '../domain/message';
import { AuditLog } from '../store/audit-log';
import { PostgresCapabilityStore } from '../store/capability-store';
import { openDatabase } from '../store/database';
import { RolloutStore } from '../store/rollout/rollout-store';
import { RBM_WEBHOOK_PATH } from '../workers/receipts-server';
import { temporalWorkerOptions } from '../workers/temporal-runtime';
import { startWorker } from '../workers/worker';
import type { RunningWorker } from '../workers/worker';
import { route } from '../workflows/route';
import { baselineWorkflow } from './baseline-workflows';
import { closedLoop, openLoop } from './load';
import type { CallOutcome, LoadRun } from './load';
import { recipientMix } from './numbers';
import type { RecipientMix } from './numbers';
import { progress } from './progress';
import { ResourceMeter } from './resources';
import type { ResourceUse } from './resources';
import type { BenchStack } from './stack';
import { latencyStats, percentile, throughput } from './stats';
import { SwitchboardMetrics, channelMeters, deliveryMeter, httpMeter, routingMeter } from '../metrics';
import type { AuditEntry } from '../domain/audit';

/** What every bench message says. Never printed. */
const TEXT = 'Switchboard benchmark message';

export interface Plan {
  concurrency: number;
  baselineAMs: number;
  baselineBMs: number;
  baselineBConcurrency: number;
  warmMs: number;
  closedMs: number;
  openMs: number;
  /** Open-loop offered rate as a share of the closed-loop rate of the same path. */
  openShare: number;
  /** One sender, one message at a time: the latency floor (baseline A and each path). */
  floorMs: number;
  auditAppends: number;
  probeIterations: number;
}

export interface PathSpec {
  key: 'rcs' | 'sms' | 'fallback';
  label: string;
  prefix: string;
  expect(outcome: DeliveryOutcome): CallOutcome;
}

const delivered = (outcome: DeliveryOutcome, channel: 'rcs' | 'sms'): CallOutcome =>
  outcome.status !== 'delivered'
    ? 'not-delivered'
    : outcome.channel !== channel
      ? `delivered-over-${outcome.channel}`
      : null;

export const PATHS: PathSpec[] = [
  { key: 'rcs', label: 'RCS', prefix: '+1555020', expect: (o) => delivered(o, 'rcs') },
  { key: 'sms', label: 'SMS', prefix: '+1555030', expect: (o) => delivered(o, 'sms') },
  {
    key: 'fallback',
    label: 'RCS→SMS fallback',
    prefix: '+1555060',
    expect: (o) => delivered(o, 'sms') ?? (o.fallbackReason ? null : 'no-fallback-reason'),
  },
];

/** Everything one load phase measured. */
export interface PhaseResult {
  /** Closed loop: senders; open loop: null. */
  concurrency: number | null;
  offeredPerSecond: number | null;
  issued: number;
  /** Calls issued ÷ the issuing period: in the open loop, the offered rate this Poisson draw realised. */
  issuedPerSecond: number;
  completed: number;
  errors: Record<string, number>;
  maxInFlight: number;
  durationMs: number;
  /** Completions ÷ (first issue → last completion). */
  perSecond: number;
  /** Median of five equal windows of the issuing period (the table's msgs/s). */
  perSecondMedianWindow: number;
  windowRates: number[];
  latencyMs: ReturnType<typeof latencyStats>;
  resources: ResourceUse;
}

function phaseResult(
  run: LoadRun,
  resources: ResourceUse,
  extra: Pick<PhaseResult, 'concurrency' | 'offeredPerSecond'>,
): PhaseResult {
  const rates = throughput(run.completedAt, run.startedAt, run.issueEndAt, run.finishedAt);
  return {
    ...extra,
    issued: run.issued,
    issuedPerSecond: (run.issued * 1000) / Math.max(1, run.issueEndAt - run.startedAt),
    completed: run.latencies.length,
    errors: run.errors,
    maxInFlight: run.maxInFlight,
    durationMs: run.finishedAt - run.startedAt,
    perSecond: rates.overall,
    perSecondMedianWindow: rates.medianWindow,
    windowRates: rates.windowRates,
    latencyMs: latencyStats(run.latencies),
    resources,
  };
}

export interface Harness {
  stack: BenchStack;
  plan: Plan;
  meter: ResourceMeter;
  logger: Logger;
}

export function createMeter(stack: BenchStack): ResourceMeter {
  return new ResourceMeter(
    async () => (await stack.carriers.stats()).cpuMs,
    stack.temporalPid,
    stack.databaseName,
  );
}

function dataConverter(stack: BenchStack) {
  return createDataConverter({
    codecKeys: stack.secrets.codecKeys,
    activeKeyId: stack.secrets.codecActiveKey,
  });
}

// ---------------------------------------------------------------------------------------------
// Baseline A: the least a workflow costs here.

/**
 * Baseline A with the pipeline worker's settings (TEMPORAL_WORKER_OPTIONS), so that its worker
 * is tuned as the pipeline's is; then its latency floor.
 */
export async function baselineA(h: Harness): Promise<{ result: PhaseResult; floor: PhaseResult }> {
  const { stack, plan } = h;
  const env = stack.workerEnv({});
  const taskQueue = 'bench-baseline-a';
  const connection = await NativeConnection.connect({ address: stack.temporal.address });
  // The same worker settings as workers/worker.ts: TEMPORAL_WORKER_OPTIONS, the codec, the namespace.
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath: require.resolve('./baseline-workflows'),
    activities: { noop: () => Promise.resolve() },
    dataConverter: dataConverter(stack),
    ...temporalWorkerOptions(env),
  });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({
    connection: clientConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(stack),
  });
  const runId = randomUUID().slice(0, 8);
  const call = (tag: string) => async (i: number) => {
    await client.workflow.execute(baselineWorkflow, {
      taskQueue,
      workflowId: `bench-a-${runId}-${tag}-${i}`,
    });
    return null;
  };
  try {
    await closedLoop(
      { label: 'baseline A warm-up', durationMs: plan.warmMs, concurrency: plan.concurrency },
      call('w'),
    );
    const before = await h.meter.snapshot();
    const run = await closedLoop(
      { label: 'baseline A', durationMs: plan.baselineAMs, concurrency: plan.concurrency },
      call('m'),
    );
    const result = phaseResult(run, await h.meter.since(before), {
      concurrency: plan.concurrency,
      offeredPerSecond: null,
    });
    progress(`baseline A: latency floor, one sender, ${(plan.floorMs / 1000).toFixed(0)} s`);
    const floorBefore = await h.meter.snapshot();
    const floorRun = await closedLoop(
      { label: 'baseline A floor', durationMs: plan.floorMs, concurrency: 1 },
      call('f'),
    );
    const floor = phaseResult(floorRun, await h.meter.since(floorBefore), {
      concurrency: 1,
      offeredPerSecond: null,
    });
    return { result, floor };
  } finally {
    worker.shutdown();
    await running;
    await clientConnection.close();
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline B: submit_sm → delivery receipt over SMPP, no Temporal, no PostgreSQL.

export async function baselineB(h: Harness): Promise<PhaseResult> {
  const { stack, plan } = h;
  const env = stack.workerEnv({});
  // Configured exactly as the worker configures its gateway.
  const gateway = new SmppGateway(smppGatewayOptions(env));
  // A receipt can be read before the submit's caller resumes: keep those until it asks.
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  gateway.onReceipt((receipt) => {
    const release = waiting.get(receipt.smscMessageId);
    if (release) release();
    else early.add(receipt.smscMessageId);
  });
  await gateway.ready(10_000);
  const mix = recipientMix('+1555030', 19, 7);
  const call = async (): Promise<CallOutcome> => {
    const { smscMessageIds } = await gateway.submit({ messageId: randomUUID(), to: mix.next(), text: TEXT });
    const id = smscMessageIds[0];
    if (id === undefined) return 'no-smsc-id';
    if (early.delete(id)) return null;
    await new Promise<void>((resolve) => waiting.set(id, resolve));
    waiting.delete(id);
    return null;
  };
  try {
    await closedLoop(
      {
        label: 'baseline B warm-up',
        durationMs: plan.warmMs,
        concurrency: plan.baselineBConcurrency,
        callTimeoutMs: 10_000,
      },
      call,
    );
    const before = await h.meter.snapshot();
    const run = await closedLoop(
      {
        label: 'baseline B',
        durationMs: plan.baselineBMs,
        concurrency: plan.baselineBConcurrency,
        callTimeoutMs: 10_000,
      },
      call,
    );
    return phaseResult(run, await h.meter.since(before), {
      concurrency: plan.baselineBConcurrency,
      offeredPerSecond: null,
    });
  } finally {
    await gateway.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The pipeline.

export interface HistoryShape {
  events: number;
  workflowTasks: number;
  /** ActivityTaskScheduled events: activities that went through the server. */
  activityTasks: number;
  /** Local activity markers: activities run in the workflow task's worker, recorded in history. */
  localActivities: number;
  /** activityTasks + localActivities. */
  roundTrips: number;
  signals: number;
  timers: number;
  /** UpsertWorkflowSearchAttributes events. */
  upserts: number;
  byActivity: Record<string, number>;
  /** History lengths of the messages sampled (this shape is the median one's). */
  sampledEvents?: number[];
}

function localActivityType(event: temporal.api.history.v1.IHistoryEvent): string {
  const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (!data) return 'local?';
  try {
    const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>;
    const type = parsed.activity_type ?? parsed.activityType;
    return typeof type === 'string' ? type : 'local?';
  } catch {
    return 'local?';
  }
}

export function historyShape(events: temporal.api.history.v1.IHistoryEvent[]): HistoryShape {
  const shape: HistoryShape = {
    events: events.length,
    workflowTasks: 0,
    activityTasks: 0,
    localActivities: 0,
    roundTrips: 0,
    signals: 0,
    timers: 0,
    upserts: 0,
    byActivity: {},
  };
  const count = (name: string) => (shape.byActivity[name] = (shape.byActivity[name] ?? 0) + 1);
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) shape.workflowTasks++;
    if (e.workflowExecutionSignaledEventAttributes) shape.signals++;
    if (e.timerStartedEventAttributes) shape.timers++;
    if (e.upsertWorkflowSearchAttributesEventAttributes) shape.upserts++;
    if (e.activityTaskScheduledEventAttributes) {
      shape.activityTasks++;
      count(e.activityTaskScheduledEventAttributes.activityType?.name ?? 'activity?');
    }
    if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
      shape.localActivities++;
      count(localActivityType(e));
    }
  }
  shape.roundTrips = shape.activityTasks + shape.localActivities;
  return shape;
}

/** Where the slowest message of a phase spent its time: the longest wait between two events. */
export interface SlowestMessage {
  inWorkflowMs: number;
  events: number;
  largestGapMs: number;
  /** The event types on either side of that gap, e.g. ActivityTaskScheduled → ActivityTaskStarted. */
  gapFrom: string;
  gapTo: string;
  workflowTaskTimeouts: number;
  workflowTaskFailures: number;
  activityRetries: number;
}

/** An event's type from the attributes it carries (…EventAttributes), without the proto enums. */
function eventName(event: temporal.api.history.v1.IHistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (value && key.endsWith('EventAttributes')) {
      const name = key.slice(0, -'EventAttributes'.length);
      return name.charAt(0).toUpperCase() + name.slice(1);
    }
  }
  return 'Event?';
}

function eventMs(event: temporal.api.history.v1.IHistoryEvent): number {
  const t = event.eventTime;
  if (!t) return NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

async function slowestMessage(vw: PipelineWorker, sender: PhaseSender): Promise<SlowestMessage | null> {
  if (!sender.slowest) return null;
  const history = await vw.worker.client.workflow.getHandle(sender.slowest.workflowId).fetchHistory();
  const events = history.events ?? [];
  let gap = { ms: 0, from: '', to: '' };
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1] as temporal.api.history.v1.IHistoryEvent;
    const b = events[i] as temporal.api.history.v1.IHistoryEvent;
    const ms = eventMs(b) - eventMs(a);
    if (ms > gap.ms) gap = { ms, from: eventName(a), to: eventName(b) };
  }
  return {
    inWorkflowMs: sender.slowest.inWorkflowMs,
    events: events.length,
    largestGapMs: gap.ms,
    gapFrom: gap.from,
    gapTo: gap.to,
    workflowTaskTimeouts: events.filter((e) => e.workflowTaskTimedOutEventAttributes).length,
    workflowTaskFailures: events.filter((e) => e.workflowTaskFailedEventAttributes).length,
    activityRetries: events.reduce(
      (n, e) => n + Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1),
      0,
    ),
  };
}

export interface CacheUse {
  sends: number;
  /** Distinct numbers among the sends: the fewest lookups any cache could do with. */
  distinctNumbers: number;
  /** Capability requests the sandbox hub answered during the phase. */
  hubLookups: number;
  /** 1 − hubLookups ÷ sends. */
  hitRatio: number;
  /** 1 − distinctNumbers ÷ sends: a cache that never expires. */
  idealHitRatio: number;
}

export interface PathResult {
  path: PathSpec['key'];
  label: string;
  closed: PhaseResult;
  open: PhaseResult | null;
  /** One sender, one message at a time: the latency floor. */
  floor: PhaseResult | null;
  /** Time the workflow itself measured (outcome.timings.totalMs), per loop. */
  inWorkflowMs: {
    closed: ReturnType<typeof latencyStats>;
    open: ReturnType<typeof latencyStats> | null;
    floor?: ReturnType<typeof latencyStats> | null;
  };
  history: HistoryShape | null;
  cache: { closed: CacheUse; open: CacheUse | null };
  slowest: { closed: SlowestMessage | null; open: SlowestMessage | null };
}

async function cacheUse(h: Harness, mix: RecipientMix, lookupsBefore: number): Promise<CacheUse> {
  const hubLookups = (await h.stack.carriers.stats()).capabilityLookups - lookupsBefore;
  const sends = mix.draws;
  return {
    sends,
    distinctNumbers: mix.distinct,
    hubLookups,
    hitRatio: sends ? 1 - hubLookups / sends : NaN,
    idealHitRatio: sends ? 1 - mix.distinct / sends : NaN,
  };
}

/** This checkout's worker (startWorker, on the bench's task queue) and its client. */
interface PipelineWorker {
  /** The revision measured, for progress lines. */
  name: string;
  worker: RunningWorker;
  client: SwitchboardClient;
}

async function startPipelineWorker(h: Harness, name: string): Promise<PipelineWorker> {
  const { stack } = h;
  const env = stack.workerEnv({ TEMPORAL_TASK_QUEUE: 'bench-pipeline' });
  progress(`${name}: starting its worker (bundles the workflows)`);
  const worker = await startWorker({
    env,
    secrets: stack.secrets,
    temporalAddress: stack.temporal.address,
    databaseUrl: stack.databaseUrl,
    logger: h.logger,
  });
  const client = await SwitchboardClient.connect({
    address: stack.temporal.address,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    dataConverter: dataConverter(stack),
    messageIdKey: deriveKey(stack.secrets, 'message-id'),
  }).catch(async (err: unknown) => {
    await worker.shutdown();
    throw err;
  });
  return { name, worker, client };
}

/** Per path and loop: the messages of a phase and what their outcomes said. */
class PhaseSender {
  readonly okIds: string[] = [];
  readonly inWorkflowMs: number[] = [];
  /** The message that spent longest in its workflow. */
  slowest: { workflowId: string; inWorkflowMs: number } | null = null;

  constructor(
    private readonly vw: PipelineWorker,
    private readonly path: PathSpec,
    readonly mix: RecipientMix,
    private readonly keep: boolean,
  ) {}

  readonly call = async (): Promise<CallOutcome> => {
    const sent = await this.vw.client.send({ to: this.mix.next(), text: TEXT });
    const outcome = await this.vw.client.waitForOutcome(sent.messageId);
    const verdict = this.path.expect(outcome);
    if (verdict === null && this.keep) {
      this.okIds.push(sent.workflowId);
      this.inWorkflowMs.push(outcome.timings.totalMs);
      if (!this.slowest || outcome.timings.totalMs > this.slowest.inWorkflowMs)
        this.slowest = { workflowId: sent.workflowId, inWorkflowMs: outcome.timings.totalMs };
    }
    return verdict;
  };
}

// Warm-up, closed and open loop draw from blocks 0, 1, 2 of the path's prefix, the floor from
// FLOOR_BLOCK; fixed seeds give every run the same mix and the same arrival schedule, so runs of
// different revisions are offered the same recipients.
const seed = (p: number, k: number) => 1000 + 10 * p + k;

async function closedPhase(h: Harness, vw: PipelineWorker, path: PathSpec, p: number) {
  const { plan, stack } = h;
  const name = `${vw.name} · ${path.label}`;
  progress(`${name}: warm-up ${(plan.warmMs / 1000).toFixed(0)} s`);
  const warm = new PhaseSender(vw, path, recipientMix(path.prefix, 0, seed(p, 0)), false);
  await closedLoop(
    { label: `${name} warm-up`, durationMs: plan.warmMs, concurrency: plan.concurrency },
    warm.call,
  );

  progress(`${name}: closed loop, ${plan.concurrency} senders, ${(plan.closedMs / 1000).toFixed(0)} s`);
  const sender = new PhaseSender(vw, path, recipientMix(path.prefix, 1, seed(p, 1)), true);
  const lookups = (await stack.carriers.stats()).capabilityLookups;
  const before = await h.meter.snapshot();
  const run = await closedLoop(
    { label: name, durationMs: plan.closedMs, concurrency: plan.concurrency },
    sender.call,
  );
  const result = phaseResult(run, await h.meter.since(before), {
    concurrency: plan.concurrency,
    offeredPerSecond: null,
  });
  const cache = await cacheUse(h, sender.mix, lookups);
  // Five messages spread over the phase; the one with the median history length stands for all
  // (a signal that lands while a workflow task runs saves a task and some events, so they differ).
  const ids = sender.okIds;
  const picks = [...new Set([1, 2, 3, 4, 5].map((k) => ids[Math.floor((k * ids.length) / 6)]))];
  const shapes: HistoryShape[] = [];
  for (const id of picks) {
    if (!id) continue;
    const fetched = await vw.worker.client.workflow.getHandle(id).fetchHistory();
    shapes.push(historyShape(fetched.events ?? []));
  }
  shapes.sort((x, y) => x.events - y.events);
  const history: HistoryShape | null = shapes[Math.floor(shapes.length / 2)] ?? null;
  if (history) history.sampledEvents = shapes.map((x) => x.events);
  return {
    result,
    cache,
    history,
    inWorkflowMs: latencyStats(sender.inWorkflowMs),
    slowest: await slowestMessage(vw, sender),
  };
}

async function openPhase(h: Harness, vw: PipelineWorker, path: PathSpec, p: number, rate: number) {
  const { plan, stack } = h;
  const name = `${vw.name} · ${path.label}`;
  progress(
    `${name}: open loop, ${rate.toFixed(1)} msgs/s offered (Poisson), ${(plan.openMs / 1000).toFixed(0)} s`,
  );
  const sender = new PhaseSender(vw, path, recipientMix(path.prefix, 2, seed(p, 2)), true);
  const lookups = (await stack.carriers.stats()).capabilityLookups;
  const before = await h.meter.snapshot();
  const run = await openLoop(
    { label: `${name} open`, durationMs: plan.openMs, ratePerSecond: rate, seed: seed(p, 3) },
    sender.call,
  );
  const result = phaseResult(run, await h.meter.since(before), { concurrency: null, offeredPerSecond: rate });
  return {
    result,
    cache: await cacheUse(h, sender.mix, lookups),
    inWorkflowMs: latencyStats(sender.inWorkflowMs),
    slowest: await slowestMessage(vw, sender),
  };
}

/** One sender back to back, after the other loops: what one message costs with no queue. */
async function floorPhase(h: Harness, vw: PipelineWorker, path: PathSpec, p: number) {
  const { plan } = h;
  const name = `${vw.name} · ${path.label}`;
  progress(`${name}: latency floor, one sender, ${(plan.floorMs / 1000).toFixed(0)} s`);
  const sender = new PhaseSender(vw, path, recipientMix(path.prefix, FLOOR_BLOCK, seed(p, 4)), true);
  const before = await h.meter.snapshot();
  const run = await closedLoop(
    { label: `${name} floor`, durationMs: plan.floorMs, concurrency: 1 },
    sender.call,
  );
  return {
    result: phaseResult(run, await h.meter.since(before), { concurrency: 1, offeredPerSecond: null }),
    inWorkflowMs: latencyStats(sender.inWorkflowMs),
  };
}

/** The floor phases' numbers: a block the loops do not use (19 is baseline B's). */
const FLOOR_BLOCK = 18;

/**
 * The pipeline of this checkout, named `name` (its revision), path by path: warm-up and closed
 * loop, then an open loop offered openShare × that closed-loop rate (half its own saturation),
 * then one sender (the latency floor).
 */
export async function pipeline(h: Harness, name: string): Promise<PathResult[]> {
  const vw = await startPipelineWorker(h, name);
  try {
    await h.stack.carriers.setWebhookUrl(`${vw.worker.receiptsUrl}${RBM_WEBHOOK_PATH}`);
    const results: PathResult[] = [];
    for (const [p, path] of PATHS.entries()) {
      const c = await closedPhase(h, vw, path, p);
      const rate = c.result.perSecondMedianWindow * h.plan.openShare;
      let o: Awaited<ReturnType<typeof openPhase>> | null = null;
      if (rate > 0) o = await openPhase(h, vw, path, p, rate);
      else progress(`${path.label}: no closed-loop rate to derive an open-loop rate from: open loop skipped`);
      const f = await floorPhase(h, vw, path, p);
      results.push({
        path: path.key,
        label: path.label,
        closed: c.result,
        open: o?.result ?? null,
        floor: f.result,
        inWorkflowMs: { closed: c.inWorkflowMs, open: o?.inWorkflowMs ?? null, floor: f.inWorkflowMs },
        history: c.history,
        cache: { closed: c.cache, open: o?.cache ?? null },
        slowest: { closed: c.slowest, open: o?.slowest ?? null },
      });
    }
    return results;
  } finally {
    await vw.client.close();
    await vw.worker.shutdown();
  }
}

// ---------------------------------------------------------------------------------------------
// In-process micro measurements.

export interface MicroResult {
  auditAppend: { count: number; medianMs: number; p95Ms: number; p99Ms: number };
  probeOnHit: { iterations: number; medianUs: number; p99Us: number };
  probeAndRouteOnHit: { iterations: number; medianUs: number; p99Us: number };
  probeStats: CachedCapabilityProbe['stats'];
  /** CPU of one message's metric calls (metricsCostPerMessage); absent in runs of older revisions. */
  metricsPerMessage?: { messages: number; cpuUs: number };
}

export async function micro(h: Harness): Promise<MicroResult> {
  const { stack, plan } = h;
  const env = stack.workerEnv({});
  const db = openDatabase(stack.databaseUrl, 2);
  try {
    // AuditLog.append, one row per call, as a worker without batching would write.
    const audit = new AuditLog(db, stack.secrets.auditHashKey);
    const recipient = recipientMix('+1555020', 19, 11).next();
    const context = { tenant: 'bench', recipient, region: 'us', flow: 'standard' };
    const row = () => ({
      messageId: randomUUID(),
      seq: 0,
      event: 'received',
      channel: null,
      result: null,
      errorCode: null,
      detail: {},
      occurredAt: new Date().toISOString(),
    });
    for (let i = 0; i < 20; i++) await audit.append(context, [row()]);
    const appendMs: number[] = [];
    for (let i = 0; i < plan.auditAppends; i++) {
      const entry = row();
      const t = performance.now();
      await audit.append(context, [entry]);
      appendMs.push(performance.now() - t);
    }
    const appendSorted = [...appendMs].sort((a, b) => a - b);

    // The routing decision on a warm cache: a CachedCapabilityProbe built as startWorker builds
    // it (workers/regional-channels.ts), PostgreSQL shared tier included.
    const hub = new RbmHubClient({
      baseUrl: env.RCS_HUB_URL,
      agentId: env.RCS_AGENT_ID,
      tokenProvider: staticTokenProvider(env.RCS_HUB_TOKEN),
      timeoutMs: env.RCS_HUB_TIMEOUT_MS,
    });
    const probe = new CachedCapabilityProbe(
      new CapabilityCache({
        hub,
        shared: new PostgresCapabilityStore(db, deriveKey(stack.secrets, 'capability-cache')),
        ttls: { freshTtlMs: env.CAPABILITY_FRESH_TTL_MS, maxAgeMs: env.CAPABILITY_MAX_AGE_MS },
        regionOf: () => env.HOME_REGION,
      }),
    );
    await probe.probe(recipient, randomUUID());
    const routing = {
      config: await new RolloutStore(db, env.ROLLOUT_DEFAULT_PHASE).current(env.HOME_REGION),
      cohortBucket: 5000,
      preference: null,
      guardThrottled: false,
    };
    const request = { flow: 'standard' as const, e2ee: 'preferred' as const };
    const probeUs: number[] = [];
    const routeUs: number[] = [];
    for (let i = 0; i < plan.probeIterations + 200; i++) {
      const t0 = performance.now();
      const capability = await probe.probe(recipient, 'bench');
      const t1 = performance.now();
      route(request, capability, routing);
      const t2 = performance.now();
      if (i >= 200) {
        probeUs.push((t1 - t0) * 1000);
        routeUs.push((t2 - t0) * 1000);
      }
    }
    const stat = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { iterations: values.length, medianUs: percentile(sorted, 50), p99Us: percentile(sorted, 99) };
    };
    return {
      auditAppend: {
        count: appendMs.length,
        medianMs: percentile(appendSorted, 50),
        p95Ms: percentile(appendSorted, 95),
        p99Ms: percentile(appendSorted, 99),
      },
      probeOnHit: stat(probeUs),
      probeAndRouteOnHit: stat(routeUs),
      probeStats: probe.stats,
      metricsPerMessage: metricsCostPerMessage(plan.probeIterations * 5),
    };
  } finally {
    await db.end();
  }
}

/**
 * Every metric call one message makes through the pipeline, as the worker makes them: the
 * routing decision, a capability lookup, the hub's capability answer and send, the webhook's
 * request, one SMPP submit, and the delivery meter for its 'accepted' and 'completed' rows
 * (outcome, RCS eligibility, latency, receipt and E2EE histograms). CPU µs per message.
 */
export function metricsCostPerMessage(messages: number): { messages: number; cpuUs: number } {
  const metrics = new SwitchboardMetrics('bench');
  const channel = channelMeters(metrics, 'us');
  const routing = routingMeter(metrics);
  const delivery = deliveryMeter(metrics);
  const http = httpMeter(metrics, 'receipts');
  const submittedAt = new Date().toISOString();
  const context = { tenant: 'bench', recipient: '+15550100001', region: 'us', flow: 'standard', submittedAt };
  const row = (event: string, seq: number, detail: AuditEntry['detail']): AuditEntry => ({
    messageId: 'bench',
    seq,
    event,
    channel: 'rcs',
    result: event,
    errorCode: null,
    detail,
    occurredAt: new Date().toISOString(),
  });
  const accepted = [row('accepted', 2, {})];
  const completed = [
    row('completed', 5, {
      fallbackReason: null,
      totalMs: 180,
      flow: 'standard',
      rcsEligible: true,
      rcsFellBack: false,
      rcsMs: 120,
      smsMs: null,
      e2eeNegotiationMs: 2,
    }),
  ];
  const once = () => {
    routing.decided('us', 'ok');
    channel.capabilities.lookup('hit');
    channel.rcsHub.request('capability', 200);
    channel.rcsHub.request('send', 200);
    http.request('/rbm/events', 200);
    channel.smpp.submitted(0.004);
    delivery.audited(context, accepted);
    delivery.audited(context, completed);
  };
  for (let i = 0; i < 1000; i++) once();
  const start = process.cpuUsage();
  for (let i = 0; i < messages; i++) once();
  const used = process.cpuUsage(start);
  return { messages, cpuUs: (used.user + used.system) / messages };
}
