// Run-time faults for the sandbox hub: the failures the number plan cannot express because
// they hit every number at once (hub brown-outs, throttling, slow answers, phones going dark).

export interface RcsHubFaults {
  /** Added before every API answer. */
  latencyMs?: number;
  /** Share of API requests answered with that status instead, e.g. {503: 0.1, 429: 0.05}. */
  errorRates?: Partial<Record<number, number>>;
  /** Sent as Retry-After on injected 429/503 answers. */
  retryAfterSeconds?: number;
  /** These phones behave as offline (accepted, never delivered) until removed. */
  offline?: string[];
  /** Limit injected errors to these operations ('capabilities', 'send', 'revoke', …); empty = all. */
  onlyOps?: string[];
}

export interface ActiveFaults {
  latencyMs: number;
  errorRates: [status: number, rate: number][];
  retryAfterSeconds: number | null;
  offline: Set<string>;
  onlyOps: Set<string>;
}

export function noFaults(): ActiveFaults {
  return { latencyMs: 0, errorRates: [], retryAfterSeconds: null, offline: new Set(), onlyOps: new Set() };
}

/** Fields given replace the active ones; fields left out stay as they are. */
export function applyFaults(active: ActiveFaults, faults: RcsHubFaults): ActiveFaults {
  return {
    latencyMs: faults.latencyMs ?? active.latencyMs,
    errorRates: faults.errorRates
      ? Object.entries(faults.errorRates).map(([status, rate]): [number, number] => [
          Number(status),
          rate ?? 0,
        ])
      : active.errorRates,
    retryAfterSeconds: faults.retryAfterSeconds ?? active.retryAfterSeconds,
    offline: faults.offline ? new Set(faults.offline) : active.offline,
    onlyOps: faults.onlyOps ? new Set(faults.onlyOps) : active.onlyOps,
  };
}

/** One roll over the cumulative rates, so {503: 0.5, 429: 0.5} fails every request. */
export function pickInjectedStatus(active: ActiveFaults, random: () => number, op: string): number | null {
  if (active.errorRates.length === 0) return null;
  if (active.onlyOps.size > 0 && !active.onlyOps.has(op)) return null;
  const roll = random();
  let cumulative = 0;
  for (const [status, rate] of active.errorRates) {
    cumulative += rate;
    if (roll < cumulative) return status;
  }
  return null;
}
