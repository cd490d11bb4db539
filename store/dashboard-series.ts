// Time series for the operator dashboard, read from the audit trail so the page works without
// Prometheus. Each series is bucketed by the row that completes a sample (as store/slo-samples.ts
// dates SLI samples), `stepSeconds` wide, over `windowSeconds` up to `now`:
// - latency: a `completed` row's channel; enqueue (`received`) → delivered, p50 and p95.
// - fallback: per region, RCS-eligible messages (plan starting with rcs) that finished, and those
//   not delivered over RCS or with RCS trouble (failed / revoked rcs rows): the guard's measure.
// - mix: finished messages by channel (`failed` for those that failed).
// - e2ee: delivered messages, and those delivered over RCS end-to-end encrypted.

import type { Database } from './database';

export interface SeriesWindow {
  now: Date;
  windowSeconds: number;
  stepSeconds: number;
}

export interface LatencyPoint {
  at: number;
  channel: string;
  count: number;
  p50: number;
  p95: number;
}
export interface FallbackPoint {
  at: number;
  region: string;
  eligible: number;
  fellBack: number;
}
export interface MixPoint {
  at: number;
  channel: string;
  count: number;
}
export interface E2eePoint {
  at: number;
  delivered: number;
  e2ee: number;
}

export interface DashboardSeries {
  latency: LatencyPoint[];
  fallback: FallbackPoint[];
  mix: MixPoint[];
  e2ee: E2eePoint[];
}

// $1 now, $2 window (s), $3 step (s). Bucket start in Unix seconds.
const RECENT = `WITH recent AS (
  SELECT *, extract(epoch FROM date_bin(make_interval(secs => $3::double precision), occurred_at,
                                        'epoch'::timestamptz))::bigint AS bucket
  FROM audit_log
  WHERE occurred_at > $1::timestamptz - make_interval(secs => $2::double precision) AND occurred_at <= $1
)`;

export async function dashboardSeries(db: Database, w: SeriesWindow): Promise<DashboardSeries> {
  const params = [w.now.toISOString(), w.windowSeconds, w.stepSeconds];
  const latency = db.query<{ bucket: string; channel: string; count: number; p50: number; p95: number }>(
    `${RECENT}
     SELECT c.bucket, c.channel, count(*)::int AS count,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.occurred_at - r.occurred_at))::float8 AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM c.occurred_at - r.occurred_at))::float8 AS p95
     FROM recent c JOIN audit_log r ON r.message_id = c.message_id AND r.event = 'received'
     WHERE c.event = 'completed' AND c.channel IS NOT NULL
     GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  const fallback = db.query<{ bucket: string; region: string; eligible: number; fell_back: number }>(
    `${RECENT}
     SELECT e.bucket, e.region, count(*)::int AS eligible,
            (count(*) FILTER (WHERE e.channel IS DISTINCT FROM 'rcs' OR EXISTS (
               SELECT 1 FROM audit_log t WHERE t.message_id = e.message_id
               AND t.channel = 'rcs' AND t.result IN ('failed', 'revoked'))))::int AS fell_back
     FROM recent e
     WHERE e.event IN ('completed', 'failed') AND EXISTS (SELECT 1 FROM audit_log r WHERE r.message_id = e.message_id
                                                          AND r.event = 'routed' AND r.detail->>'plan' LIKE 'rcs%')
     GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  const mix = db.query<{ bucket: string; channel: string; count: number }>(
    `${RECENT}
     SELECT bucket, CASE WHEN event = 'failed' THEN 'failed' ELSE coalesce(channel, 'none') END AS channel,
            count(*)::int AS count
     FROM recent WHERE event IN ('completed', 'failed')
     GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  const e2ee = db.query<{ bucket: string; delivered: number; e2ee: number }>(
    `${RECENT}
     SELECT c.bucket, count(*)::int AS delivered,
            (count(*) FILTER (WHERE c.channel = 'rcs' AND EXISTS (
               SELECT 1 FROM audit_log d WHERE d.message_id = c.message_id AND d.event = 'delivered'
               AND d.channel = 'rcs' AND d.detail->>'e2ee' = 'true')))::int AS e2ee
     FROM recent c WHERE c.event = 'completed'
     GROUP BY 1 ORDER BY 1`,
    params,
  );
  const [l, f, m, e] = await Promise.all([latency, fallback, mix, e2ee]);
  return {
    latency: l.rows.map((r) => ({
      at: Number(r.bucket),
      channel: r.channel,
      count: r.count,
      p50: r.p50,
      p95: r.p95,
    })),
    fallback: f.rows.map((r) => ({
      at: Number(r.bucket),
      region: r.region,
      eligible: r.eligible,
      fellBack: r.fell_back,
    })),
    mix: m.rows.map((r) => ({ at: Number(r.bucket), channel: r.channel, count: r.count })),
    e2ee: e.rows.map((r) => ({ at: Number(r.bucket), delivered: r.delivered, e2ee: r.e2ee })),
  };
}
