// The capability-cache TTL a carrier's probe data suggests (switchboard probes ttl; applied to the
// cache with CAPABILITY_TTL_TUNING=true). Pure: the store counts, this decides.

export interface CarrierChangeStats {
  region: string;
  carrier: string;
  /** Hub answers the probes saw (lookups that failed are left out). */
  answers: number;
  /** How often a recipient's answer differed from its previous one. */
  changes: number;
  /** Time watched: the sum of each recipient's first-to-last answer span. */
  observedSeconds: number;
}

export interface TtlSuggestion {
  region: string;
  carrier: string;
  answers: number;
  changes: number;
  observedSeconds: number;
  /** null: too few answers to suggest anything; the configured TTLs stay. */
  freshTtlMs: number | null;
  maxAgeMs: number | null;
  rule: string;
}

/** Fewer answers than this say too little (at one probe per 30 s: 5 minutes). */
export const MIN_ANSWERS = 10;
export const FLOOR_MS = 5_000;
export const CEILING_MS = 86_400_000;
/** A cached answer may be out of date this share of the time. */
const STALE_SHARE = 0.1;
/** As the defaults (30 s fresh, 2 min max age): serve stale up to four times the fresh TTL. */
const MAX_AGE_FACTOR = 4;

/**
 * The rule: the probes' answers change on average once every `observedSeconds / changes`
 * (with no change seen, at most once in the whole time watched: `changes` counts as 1, so the
 * suggestion grows with the evidence). A change lands inside a cached answer's fresh period with
 * a chance of about TTL / that interval, so TTL = 10 % of it keeps a cached answer wrong about
 * one lookup in ten after a change, at worst. Clamped to 5 s … 24 h; max age is 4 × fresh.
 */
export function suggestTtl(stats: CarrierChangeStats): TtlSuggestion {
  const base = { ...stats, observedSeconds: Math.round(stats.observedSeconds) };
  if (stats.answers < MIN_ANSWERS) {
    return { ...base, freshTtlMs: null, maxAgeMs: null, rule: `fewer than ${MIN_ANSWERS} answers` };
  }
  const secondsBetweenChanges = stats.observedSeconds / Math.max(stats.changes, 1);
  const raw = secondsBetweenChanges * 1000 * STALE_SHARE;
  const freshTtlMs = Math.round(Math.min(CEILING_MS, Math.max(FLOOR_MS, raw)));
  return {
    ...base,
    freshTtlMs,
    maxAgeMs: Math.min(CEILING_MS * MAX_AGE_FACTOR, freshTtlMs * MAX_AGE_FACTOR),
    rule: `${STALE_SHARE * 100} % of ${Math.round(secondsBetweenChanges)} s between changes`,
  };
}

/**
 * The cache knows a number's region, not its carrier (no number-to-carrier lookup exists here):
 * a region takes the shortest suggestion of its carriers, so no carrier's answers are cached
 * longer than its own data allows.
 */
export function regionTtls(
  suggestions: TtlSuggestion[],
): Map<string, { freshTtlMs: number; maxAgeMs: number }> {
  const byRegion = new Map<string, { freshTtlMs: number; maxAgeMs: number }>();
  for (const s of suggestions) {
    if (s.freshTtlMs === null || s.maxAgeMs === null) continue;
    const current = byRegion.get(s.region);
    if (!current || s.freshTtlMs < current.freshTtlMs)
      byRegion.set(s.region, { freshTtlMs: s.freshTtlMs, maxAgeMs: s.maxAgeMs });
  }
  return byRegion;
}
