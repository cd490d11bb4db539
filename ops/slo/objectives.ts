// The service level objectives, as data: the rules generator (rules.ts) and `switchboard slo`
// (client/slo-commands.ts) both read them. Targets are the seed article's; the receipt latency
// one is ours (SMS receipts cross carriers: 250 ms–5 s typical, so 30 s at p95 leaves room for
// inter-carrier routing while still catching an SMSC that holds receipts back).

import {
  DELIVERY_LATENCY_SECONDS,
  HTTP_REQUESTS_TOTAL,
  RCS_ELIGIBLE_TOTAL,
  RCS_FALLBACK_TOTAL,
  RECEIPT_LATENCY_SECONDS,
  ROUTING_DECISIONS_TOTAL,
} from '../metric-names';

/** How to get the error ratio over a range `[$w]` from Prometheus. */
export type PrometheusSli =
  | { kind: 'ratio'; errors: string; total: string; by: readonly string[] }
  /** Share of observations above `le` seconds; `le` must be a bucket boundary. */
  | { kind: 'latency'; histogram: string; selector: string; le: number; by: readonly string[] };

export interface Objective {
  /** Kebab-case id, the `slo` label of every rule. */
  name: string;
  description: string;
  /** Share of good events, e.g. 0.999. */
  target: number;
  prometheus: PrometheusSli;
  /** What `switchboard slo` reads in PostgreSQL; null when the audit trail does not see it. */
  auditTrail: string | null;
}

export const OBJECTIVES: readonly Objective[] = [
  {
    name: 'routing-availability',
    description: 'routing control plane answers (prepareDelivery) without error',
    target: 0.9999,
    prometheus: {
      kind: 'ratio',
      errors: `${ROUTING_DECISIONS_TOTAL.name}{result="error"}`,
      total: ROUTING_DECISIONS_TOTAL.name,
      by: ['region'],
    },
    auditTrail: 'routed rows; bad when the message also has a probe_failed row (routed on a failed lookup)',
  },
  {
    name: 'delivery-endpoints-availability',
    description:
      'the REST API, RBM webhook, key directory, media upload and shortlink pages answer without a 5xx',
    target: 0.999,
    prometheus: {
      kind: 'ratio',
      errors: `${HTTP_REQUESTS_TOTAL.name}{status=~"5.."}`,
      total: HTTP_REQUESTS_TOTAL.name,
      by: [],
    },
    auditTrail: null,
  },
  {
    name: 'rcs-latency-median',
    description: 'RCS enqueue → delivered under 300 ms for at least half the messages',
    target: 0.5,
    prometheus: {
      kind: 'latency',
      histogram: DELIVERY_LATENCY_SECONDS.name,
      selector: 'channel="rcs",stage="delivered"',
      le: 0.3,
      by: ['region'],
    },
    auditTrail: 'rcs delivered rows; latency from the message’s received row',
  },
  {
    name: 'rcs-latency-p95',
    description: 'RCS enqueue → delivered under 1 s for 95 % of messages',
    target: 0.95,
    prometheus: {
      kind: 'latency',
      histogram: DELIVERY_LATENCY_SECONDS.name,
      selector: 'channel="rcs",stage="delivered"',
      le: 1,
      by: ['region'],
    },
    auditTrail: 'rcs delivered rows; latency from the message’s received row',
  },
  {
    name: 'rcs-fallback',
    description: 'RCS-eligible messages delivered over RCS without RCS trouble (fallback < 5 %)',
    target: 0.95,
    prometheus: {
      kind: 'ratio',
      errors: `${RCS_FALLBACK_TOTAL.name}{synthetic="false"}`,
      total: `${RCS_ELIGIBLE_TOTAL.name}{synthetic="false"}`,
      by: ['region'],
    },
    auditTrail:
      "the rollout guard's measure: routed with an rcs-first plan, ended, not on rcs or rcs trouble",
  },
  {
    name: 'sms-receipt-latency-p95',
    description: 'SMS submit → final delivery receipt within 30 s for 95 % of messages',
    target: 0.95,
    prometheus: {
      kind: 'latency',
      histogram: RECEIPT_LATENCY_SECONDS.name,
      selector: 'channel="sms"',
      le: 30,
      by: [],
    },
    auditTrail: 'sms accepted rows; bad when the final receipt took over 30 s or never came (timeout)',
  },
];

/** The length of the error budget. */
export const BUDGET_WINDOW_SECONDS = 30 * 24 * 3600;

export interface BurnRateAlert {
  severity: 'page' | 'ticket';
  /** Budget consumption speed: 1 = the whole budget in exactly the budget window. */
  burnRate: number;
  longSeconds: number;
  shortSeconds: number;
}

/** The SRE workbook's multi-window, multi-burn-rate alerts for a 30-day budget. */
export const BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  { severity: 'page', burnRate: 14.4, longSeconds: 3600, shortSeconds: 300 },
  { severity: 'page', burnRate: 6, longSeconds: 6 * 3600, shortSeconds: 1800 },
  { severity: 'ticket', burnRate: 3, longSeconds: 24 * 3600, shortSeconds: 2 * 3600 },
  { severity: 'ticket', burnRate: 1, longSeconds: 3 * 24 * 3600, shortSeconds: 6 * 3600 },
];

/** Every window an alert reads, shortest first. */
export const ALERT_WINDOWS_SECONDS: readonly number[] = [
  ...new Set(BURN_RATE_ALERTS.flatMap((a) => [a.shortSeconds, a.longSeconds])),
].sort((a, b) => a - b);

/** Prometheus duration syntax, largest unit that divides exactly: 3600 → "1h", 90 → "90s". */
export function promDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new RangeError('seconds: a positive integer');
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Parses what promDuration writes (and `--window 30d`): a whole number and one of s, m, h, d. */
export function parseDuration(text: string): number | null {
  const match = /^([1-9][0-9]*)([smhd])$/.exec(text);
  if (!match) return null;
  const size = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * size;
}
