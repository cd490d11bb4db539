// The human table (stdout) and the JSON record (bench/results/). docs/benchmarks.md explains
// every column ("Reading the benchmark").
import type { Comparison } from './compare';
import { fmt, per1000, table } from './format';
import type { MicroResult, PathResult, PhaseResult, Plan } from './phases';
import { POOL_SIZE } from './numbers';
import type { Revision } from './revision';
import type { ApiComparison } from './api-phase';

export interface BenchReport {
  /** The code measured: this checkout. */
  revision: Revision;
  at: string;
  tookSeconds: number;
  scale: number;
  plan: Plan;
  /** Dynamic config values the bench's dev server ran with (BENCH_SERVER_CONFIG). */
  serverConfig: string[];
  machine: { cores: number; loadAverageAtStart: number[]; node: string; postgres: 'machine' | 'embedded' };
  baselineA: PhaseResult;
  /** Baseline A with one sender: a bare workflow's latency with no queue. */
  baselineAFloor: PhaseResult;
  baselineB: PhaseResult;
  /** The pipeline of this revision, per path. */
  paths: PathResult[];
  /** API send → delivered beside the direct client (bench/api-phase.ts). */
  api?: ApiComparison;
  micro: MicroResult;
  /** With BENCH_BEFORE: the run compared with, and the verdict per path. */
  comparison: Comparison | null;
  notes: string[];
}

const TARGET = { ratio: 0.8, p50: 30, p95: 100 };

const failed = (p: PhaseResult) => Object.values(p.errors).reduce((s, n) => s + n, 0);

function failures(p: PhaseResult): string {
  const n = failed(p);
  if (n === 0) return '0';
  return `${n} (${Object.entries(p.errors)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`;
}

function historyEvents(h: NonNullable<PathResult['history']>): string {
  const sampled = h.sampledEvents ?? [];
  const lo = Math.min(...sampled);
  const hi = Math.max(...sampled);
  return sampled.length > 1 && lo !== hi ? `${h.events} (${lo}–${hi})` : String(h.events);
}

function auditWrites(path: PathResult): number | null {
  return path.history ? (path.history.byActivity.recordAudit ?? 0) : null;
}

export function renderTable(r: BenchReport): string {
  const out: string[] = [];
  const a = r.baselineA;
  const b = r.baselineB;
  const p = r.plan;
  const paths = r.paths;
  const revisionName = r.revision.name;

  out.push(
    `Switchboard benchmark · ${revisionName} · ${r.at} · took ${fmt(r.tookSeconds, 0)} s · BENCH_SCALE=${r.scale} · ` +
      `${r.machine.cores} cores, load average at start ${r.machine.loadAverageAtStart.map((l) => fmt(l, 2)).join(' ')} · ` +
      `node ${r.machine.node} · PostgreSQL: ${r.machine.postgres}`,
  );
  out.push(
    `closed loop: ${p.concurrency} senders for ${fmt(p.closedMs / 1000, 0)} s (baseline A ${fmt(p.baselineAMs / 1000, 0)} s, ` +
      `baseline B ${p.baselineBConcurrency} senders for ${fmt(p.baselineBMs / 1000, 0)} s), after a ${fmt(p.warmMs / 1000, 0)} s warm-up · ` +
      `open loop: Poisson arrivals at ${fmt(p.openShare * 100, 0)} % of the path's closed-loop rate, ` +
      `${fmt(p.openMs / 1000, 0)} s · ` +
      `latency floor: one sender for ${fmt(p.floorMs / 1000, 0)} s`,
  );
  out.push(
    'carriers: sandbox SMSC and RCS hub with zero added latency, in a child process · worker, load client and ' +
      'baseline A worker: in the bench process · Temporal dev server: SQLite, journal_mode=WAL' +
      (r.serverConfig.length ? `, ${r.serverConfig.join(', ')}` : ', no dynamic config overrides'),
  );
  for (const note of r.notes) out.push(`note: ${note}`);
  out.push('');

  out.push(`== Ratios (${revisionName}) ==`);
  const ratio = (x: PathResult) => x.closed.perSecondMedianWindow / a.perSecondMedianWindow;
  out.push(
    `pipeline ÷ baseline A (closed-loop msgs/s):   ${paths
      .map((x) => `${x.label} ${fmt(ratio(x), 2)}`)
      .join(' · ')}   (target ≥ ${TARGET.ratio})`,
  );
  out.push(
    `pipeline p50 ÷ baseline A p50 (closed loop):  ${paths
      .map((x) => `${x.label} ${fmt(x.closed.latencyMs.p50 / a.latencyMs.p50, 2)}`)
      .join(' · ')}`,
  );
  out.push(
    `open-loop latency p50 / p95 ms:               ${paths
      .map((x) => `${x.label} ${fmt(x.open?.latencyMs.p50, 0)} / ${fmt(x.open?.latencyMs.p95, 0)}`)
      .join(' · ')}   (target p50 < ${TARGET.p50}, p95 < ${TARGET.p95})`,
  );
  out.push(
    `latency floor p50 / p95 ms (one at a time):   baseline A ${fmt(r.baselineAFloor.latencyMs.p50, 0)} / ` +
      `${fmt(r.baselineAFloor.latencyMs.p95, 0)} · ${paths
        .map((x) => `${x.label} ${fmt(x.floor?.latencyMs.p50, 0)} / ${fmt(x.floor?.latencyMs.p95, 0)}`)
        .join(' · ')}`,
  );
  const sms = paths.find((x) => x.path === 'sms');
  if (sms)
    out.push(
      `SMS path ÷ baseline B (raw SMPP, msgs/s):      ${fmt(sms.closed.perSecondMedianWindow / b.perSecondMedianWindow, 3)}`,
    );
  out.push(
    `capability cache hit ratio (closed loop):     ${paths
      .map(
        (x) =>
          `${x.label} ${fmt(x.cache.closed.hitRatio, 2)} (ideal ${fmt(x.cache.closed.idealHitRatio, 2)})`,
      )
      .join(' · ')}`,
  );
  out.push(
    `routing decision on a cache hit:              probe() median ${fmt(r.micro.probeOnHit.medianUs, 1)} µs ` +
      `(p99 ${fmt(r.micro.probeOnHit.p99Us, 1)}) · probe() + route() median ${fmt(r.micro.probeAndRouteOnHit.medianUs, 1)} µs`,
  );
  const metricsCost = r.micro.metricsPerMessage;
  if (metricsCost)
    out.push(
      `metrics cost per message (target < 2 %):      ${fmt(metricsCost.cpuUs, 1)} µs CPU · ${paths
        .map((x) => {
          const u = x.closed.resources;
          // CPU per 1,000 messages in ms = µs per message: the worker's process and the parts it drives.
          const pipelineUs = per1000(
            u.benchCpuMs + (u.temporalCpuMs ?? 0) + (u.postgresCpuMs ?? 0) + (u.carriersCpuMs ?? 0),
            x.closed.completed,
          );
          if (pipelineUs === null || pipelineUs === 0) return `${x.label} –`;
          return `${x.label} ${fmt((100 * metricsCost.cpuUs) / pipelineUs, 3)} % of ${fmt(pipelineUs / 1000, 2)} ms`;
        })
        .join(' · ')}`,
    );
  const auditMs = r.micro.auditAppend.medianMs;
  out.push(
    `audit write cost per message:                 ${paths
      .map((x) => {
        const writes = auditWrites(x);
        if (writes === null) return `${x.label} –`;
        const ms = writes * auditMs;
        const service = 1000 / x.closed.perSecondMedianWindow;
        return (
          `${x.label} ${writes} × ${fmt(auditMs, 2)} = ${fmt(ms, 1)} ms = ${fmt((ms / (x.open?.latencyMs.p50 ?? NaN)) * 100, 1)} % ` +
          `of open p50, ${fmt((ms / service) * 100, 1)} % of ${fmt(service, 0)} ms/msg at saturation`
        );
      })
      .join(' · ')}`,
  );
  out.push('');

  out.push('== Throughput and latency (start → delivered outcome) ==');
  const rows: string[][] = [];
  const loadRow = (name: string, load: string, x: PhaseResult, open: boolean, inWorkflowP50?: number) => [
    name,
    load,
    open ? fmt(x.offeredPerSecond) : '',
    open ? fmt(x.issuedPerSecond) : '',
    fmt(open ? x.perSecond : x.perSecondMedianWindow),
    open ? '' : fmt(x.perSecondMedianWindow / a.perSecondMedianWindow, 2),
    fmt(x.latencyMs.p50),
    fmt(x.latencyMs.p95),
    fmt(x.latencyMs.p99),
    fmt(inWorkflowP50, 0),
    String(x.completed),
    failures(x),
  ];
  rows.push(loadRow('baseline A: bare workflow + no-op activity', `closed ${a.concurrency}`, a, false));
  rows.push(loadRow('baseline A: bare workflow + no-op activity', 'one at a time', r.baselineAFloor, false));
  rows.push(loadRow('baseline B: raw SMPP submit_sm → receipt', `closed ${b.concurrency}`, b, false));
  for (const x of paths) {
    const phase = `${revisionName} · ${x.label}`;
    rows.push(loadRow(phase, `closed ${x.closed.concurrency}`, x.closed, false, x.inWorkflowMs.closed.p50));
    if (x.open) rows.push(loadRow(phase, 'open', x.open, true, x.inWorkflowMs.open?.p50));
    if (x.floor) rows.push(loadRow(phase, 'one at a time', x.floor, false, x.inWorkflowMs.floor?.p50));
  }
  out.push(
    table(
      [
        'phase',
        'load',
        'offered/s',
        'sent/s',
        'msgs/s',
        '÷ A',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'in-wf p50',
        'done',
        'failed',
      ],
      rows,
      [false, false, true, true, true, true, true, true, true, true, true, false],
    ),
  );

  const slow: string[] = [];
  for (const x of paths) {
    for (const [loop, m] of [
      ['closed', x.slowest.closed],
      ['open', x.slowest.open],
    ] as const) {
      if (!m) continue;
      const extra = [
        m.workflowTaskTimeouts ? `${m.workflowTaskTimeouts} workflow task timeout(s)` : '',
        m.workflowTaskFailures ? `${m.workflowTaskFailures} workflow task failure(s)` : '',
        m.activityRetries ? `${m.activityRetries} activity retr(ies)` : '',
      ].filter(Boolean);
      slow.push(
        `  ${revisionName} · ${x.label} ${loop}: ${fmt(m.inWorkflowMs, 0)} ms in the workflow; longest wait ` +
          `${fmt(m.largestGapMs, 0)} ms, ${m.gapFrom} → ${m.gapTo}${extra.length ? `; ${extra.join(', ')}` : ''}`,
      );
    }
  }
  if (slow.length) out.push('slowest message of each phase (its history):', ...slow);
  out.push('');

  out.push('== Cost per message (closed loop; CPU per 1,000 messages) ==');
  const costRows: string[][] = [];
  const costRow = (name: string, x: PhaseResult, path: PathResult | null) => {
    const u = x.resources;
    const h = path?.history ?? null;
    return [
      name,
      h ? historyEvents(h) : '',
      h ? `${h.roundTrips} (${h.activityTasks} + ${h.localActivities})` : '',
      h ? String(h.workflowTasks) : '',
      path ? fmt(auditWrites(path), 0) : '',
      fmt(per1000(u.benchCpuMs, x.completed), 0),
      fmt(per1000(u.temporalCpuMs, x.completed), 0),
      fmt(per1000(u.postgresCpuMs, x.completed), 0),
      fmt(per1000(u.carriersCpuMs, x.completed), 0),
      fmt(u.rssEndMb, 0),
      fmt(per1000(u.rssDeltaMb, x.completed), 1),
      fmt(u.machineBusyPct, 0),
      fmt(u.othersBusyPct, 0),
    ];
  };
  costRows.push(costRow('baseline A', a, null));
  costRows.push(costRow('baseline B', b, null));
  for (const x of paths) costRows.push(costRow(`${revisionName} · ${x.label}`, x.closed, x));
  out.push(
    table(
      [
        'phase',
        'history events',
        'round trips (tasks + local)',
        'wf tasks',
        'audit writes',
        'bench CPU ms',
        'server CPU ms',
        'PG CPU ms',
        'carriers CPU ms',
        'RSS MB',
        'RSS Δ MB',
        'machine busy %',
        'others %',
      ],
      costRows,
      [false, true, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );
  const activities = paths
    .filter((x) => x.history)
    .map(
      (x) =>
        `${x.label}: ${Object.entries(x.history?.byActivity ?? {})
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
    );
  if (activities.length) out.push(`round trips by activity: ${activities.join(' · ')}`);
  out.push('');

  out.push(`== Capability cache (80 % of sends to 20 % of a ${POOL_SIZE}-number pool per phase) ==`);
  const cacheRows: string[][] = [];
  for (const x of paths) {
    for (const [loop, c] of [
      ['closed', x.cache.closed],
      ['open', x.cache.open],
    ] as const) {
      if (!c) continue;
      cacheRows.push([
        `${revisionName} · ${x.label}`,
        loop,
        String(c.sends),
        String(c.distinctNumbers),
        String(c.hubLookups),
        fmt(c.hitRatio, 3),
        fmt(c.idealHitRatio, 3),
      ]);
    }
  }
  out.push(
    table(['phase', 'load', 'sends', 'distinct numbers', 'hub lookups', 'hit ratio', 'ideal'], cacheRows, [
      false,
      false,
      true,
      true,
      true,
      true,
      true,
    ]),
  );
  out.push(
    `in-process probe on a warm cache (${r.micro.probeOnHit.iterations} calls): probe() median ${fmt(r.micro.probeOnHit.medianUs, 1)} µs, ` +
      `p99 ${fmt(r.micro.probeOnHit.p99Us, 1)} µs; probe() + route() median ${fmt(r.micro.probeAndRouteOnHit.medianUs, 1)} µs, ` +
      `p99 ${fmt(r.micro.probeAndRouteOnHit.p99Us, 1)} µs`,
  );
  out.push(
    `AuditLog.append, one row per call (${r.micro.auditAppend.count} calls): median ${fmt(r.micro.auditAppend.medianMs, 2)} ms, ` +
      `p95 ${fmt(r.micro.auditAppend.p95Ms, 2)} ms, p99 ${fmt(r.micro.auditAppend.p99Ms, 2)} ms`,
  );
  out.push('');

  return out.join('\n');
}
