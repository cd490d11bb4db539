import type { Database } from '../database';

export interface GuardState {
  region: string;
  throttled: boolean;
  reason: string | null;
  fallbackRate: number | null;
  sampleSize: number | null;
  changedAt: string;
}

export interface FallbackSample {
  /** Finished messages whose plan started with RCS. */
  eligible: number;
  /** Of those, the ones that did not end on RCS or met an RCS error on the way. */
  fellBack: number;
}

/** The guard's decisions, and the measurement it makes them from (the audit trail). */
export class GuardStore {
  constructor(private readonly db: Database) {}

  async get(region: string): Promise<GuardState | null> {
    const { rows } = await this.db.query<{
      region: string;
      throttled: boolean;
      reason: string | null;
      fallback_rate: string | null;
      sample_size: number | null;
      changed_at: Date;
    }>('SELECT * FROM rollout_guard WHERE region = $1', [region]);
    const r = rows[0];
    return r
      ? {
          region: r.region,
          throttled: r.throttled,
          reason: r.reason,
          fallbackRate: r.fallback_rate === null ? null : Number(r.fallback_rate),
          sampleSize: r.sample_size,
          changedAt: r.changed_at.toISOString(),
        }
      : null;
  }

  async set(state: Omit<GuardState, 'changedAt'>): Promise<void> {
    await this.db.query(
      `INSERT INTO rollout_guard (region, throttled, reason, fallback_rate, sample_size) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (region) DO UPDATE SET throttled = excluded.throttled, reason = excluded.reason,
         fallback_rate = excluded.fallback_rate, sample_size = excluded.sample_size, changed_at = now()`,
      [state.region, state.throttled, state.reason, state.fallbackRate, state.sampleSize],
    );
  }

  async measure(region: string, windowMs: number): Promise<FallbackSample> {
    const { rows } = await this.db.query<{ eligible: string; fell_back: string }>(
      `WITH recent AS (
         SELECT message_id, event, channel, result, detail FROM audit_log
         WHERE region = $1 AND occurred_at >= now() - make_interval(secs => $2::double precision / 1000)
       ),
       -- Synthetic probes' messages (detail.synthetic) are not traffic the guard protects.
       routed AS (SELECT message_id FROM recent WHERE event = 'routed' AND detail->>'plan' LIKE 'rcs%'
                  AND NOT detail ? 'synthetic'),
       ended AS (SELECT message_id, channel FROM recent WHERE event IN ('completed', 'failed')),
       rcs_trouble AS (SELECT DISTINCT message_id FROM recent WHERE channel = 'rcs' AND result IN ('failed', 'revoked'))
       SELECT count(*) AS eligible,
              count(*) FILTER (WHERE e.channel IS DISTINCT FROM 'rcs' OR t.message_id IS NOT NULL) AS fell_back
       FROM routed r JOIN ended e USING (message_id) LEFT JOIN rcs_trouble t USING (message_id)`,
      [region, windowMs],
    );
    return { eligible: Number(rows[0]?.eligible ?? 0), fellBack: Number(rows[0]?.fell_back ?? 0) };
  }
}
