// Order statistics and a seeded random source: the same run plan every time.

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export interface LatencyStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function latencyStats(values: number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/**
 * Throughput two ways: over the whole phase (completions ÷ time until the last one finished) and
 * as the median of `windows` equal windows of the issuing period, which a burst of other work on
 * this shared machine moves less.
 */
export function throughput(
  completedAt: number[],
  startedAt: number,
  issueEndAt: number,
  finishedAt: number,
  windows = 5,
): { overall: number; medianWindow: number; windowRates: number[] } {
  const overall = (completedAt.length * 1000) / Math.max(1, finishedAt - startedAt);
  const width = (issueEndAt - startedAt) / windows;
  const counts = new Array<number>(windows).fill(0);
  for (const t of completedAt) {
    const w = Math.floor((t - startedAt) / width);
    if (w >= 0 && w < windows) counts[w] = (counts[w] ?? 0) + 1;
  }
  const windowRates = counts.map((c) => (c * 1000) / width);
  return { overall, medianWindow: median(windowRates), windowRates };
}

/** mulberry32: small, fast, seeded; the bench's recipient mix and arrivals are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
