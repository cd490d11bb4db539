// SLI samples from the audit trail, for `switchboard slo` without Prometheus. Each sample is
// dated by the row that completes it, so a window holds what finished in it:
// - routing-availability: a `routed` row; bad if the message has a `probe_failed` row (routed on
//   a failed lookup). A decision that never happened leaves no row: Prometheus sees those.
// - rcs-latency-*: an rcs `delivered` row; its latency runs from the message's `received` row.
// - rcs-fallback: a `completed`/`failed` row of a message routed with an rcs-first plan; bad if
//   it did not end on rcs or met rcs trouble (the rollout guard's measure); a `failed` row has no
//   channel, so it is bad (a plain `channel = 'rcs'` would be NULL and counted good).
// - sms-receipt-latency-p95: an sms `delivered`, `receipt` (failed) or `timeout` row; its latency
//   runs from the sms `accepted` row before it; a timeout is bad whatever its latency.

import type { Database } from './database';

export interface SampleThresholds {
  rcsMedianSeconds: number;
  rcsP95Seconds: number;
  smsReceiptSeconds: number;
}

export interface SliCount {
  sli: string;
  windowSeconds: number;
  total: number;
  bad: number;
}

export async function countSliSamples(
  db: Database,
  now: Date,
  windowsSeconds: number[],
  t: SampleThresholds,
): Promise<SliCount[]> {
  const { rows } = await db.query<{ sli: string; window_secs: number; total: number; bad: number }>(
    `WITH recent AS (
       SELECT * FROM audit_log a
       WHERE occurred_at > $1::timestamptz - make_interval(secs => $2::double precision) AND occurred_at <= $1
         -- Synthetic probes' messages are not the service users get (their received row says so).
         AND NOT EXISTS (SELECT 1 FROM audit_log s WHERE s.message_id = a.message_id AND s.event = 'received'
                         AND s.detail ? 'synthetic')
     ),
     rcs_latency AS (
       SELECT d.occurred_at AS at, extract(epoch FROM d.occurred_at - s.occurred_at) AS secs
       FROM recent d JOIN audit_log s ON s.message_id = d.message_id AND s.event = 'received'
       WHERE d.event = 'delivered' AND d.channel = 'rcs'
     ),
     samples AS (
       SELECT 'routing-availability' AS sli, r.occurred_at AS at,
              NOT EXISTS (SELECT 1 FROM audit_log p WHERE p.message_id = r.message_id AND p.event = 'probe_failed') AS good
       FROM recent r WHERE r.event = 'routed'
       UNION ALL SELECT 'rcs-latency-median', at, secs <= $3 FROM rcs_latency
       UNION ALL SELECT 'rcs-latency-p95', at, secs <= $4 FROM rcs_latency
       UNION ALL
       SELECT 'rcs-fallback', e.occurred_at,
              e.channel IS NOT DISTINCT FROM 'rcs' AND NOT EXISTS (SELECT 1 FROM audit_log t WHERE t.message_id = e.message_id
                                               AND t.channel = 'rcs' AND t.result IN ('failed', 'revoked'))
       FROM recent e
       WHERE e.event IN ('completed', 'failed') AND EXISTS (SELECT 1 FROM audit_log r WHERE r.message_id = e.message_id
                                                            AND r.event = 'routed' AND r.detail->>'plan' LIKE 'rcs%')
       UNION ALL
       SELECT 'sms-receipt-latency-p95', f.occurred_at,
              f.event <> 'timeout' AND extract(epoch FROM f.occurred_at - a.occurred_at) <= $5
       FROM recent f
       JOIN LATERAL (SELECT occurred_at FROM audit_log a WHERE a.message_id = f.message_id AND a.event = 'accepted'
                     AND a.channel = 'sms' AND a.seq < f.seq ORDER BY a.seq DESC LIMIT 1) a ON true
       WHERE f.channel = 'sms' AND f.event IN ('delivered', 'receipt', 'timeout')
     )
     SELECT s.sli, w.secs AS window_secs, count(*)::int AS total, (count(*) FILTER (WHERE NOT s.good))::int AS bad
     FROM samples s CROSS JOIN unnest($6::int[]) AS w(secs)
     WHERE s.at > $1::timestamptz - make_interval(secs => w.secs::double precision)
     GROUP BY 1, 2`,
    [
      now.toISOString(),
      Math.max(...windowsSeconds),
      t.rcsMedianSeconds,
      t.rcsP95Seconds,
      t.smsReceiptSeconds,
      windowsSeconds,
    ],
  );
  return rows.map((r) => ({ sli: r.sli, windowSeconds: r.window_secs, total: r.total, bad: r.bad }));
}
