// The Phase 0 KPI: what share of recipients can take RCS, RCS + E2EE, or only SMS, per region.
// Read from the audit trail's `routed` rows, which record what the capability cache answered
// for each recipient (detail.rcs, detail.e2ee) with the region: capability_cache itself holds
// neither region nor carrier, only a keyed hash of the number. Each recipient counts once per
// region, as last seen in the window. No row names a carrier: it is reported as "unknown".

import type { Database } from './database';

export interface CapabilityShare {
  region: string;
  carrier: 'unknown';
  recipients: number;
  /** Shares of `recipients`, four decimals; `unknown` = routed without a capability answer. */
  rcs: number;
  rcsE2ee: number;
  smsOnly: number;
  unknown: number;
}

const share = (n: number, total: number) => Math.round((n / total) * 1e4) / 1e4;

export async function capabilityShares(
  db: Database,
  now: Date,
  windowSeconds: number,
  region?: string,
): Promise<CapabilityShare[]> {
  const { rows } = await db.query<{
    region: string;
    recipients: number;
    rcs: number;
    rcs_e2ee: number;
    sms_only: number;
  }>(
    `WITH last_seen AS (
       SELECT DISTINCT ON (region, recipient_hash) region, detail
       FROM audit_log
       WHERE event = 'routed' AND NOT detail ? 'synthetic'
         AND occurred_at > $1::timestamptz - make_interval(secs => $2::double precision)
         AND occurred_at <= $1 AND ($3::text IS NULL OR region = $3)
       ORDER BY region, recipient_hash, occurred_at DESC
     )
     SELECT region, count(*)::int AS recipients,
            (count(*) FILTER (WHERE detail->>'rcs' = 'true'))::int AS rcs,
            (count(*) FILTER (WHERE detail->>'rcs' = 'true' AND detail->>'e2ee' = 'true'))::int AS rcs_e2ee,
            (count(*) FILTER (WHERE detail->>'rcs' = 'false'))::int AS sms_only
     FROM last_seen GROUP BY region ORDER BY region`,
    [now.toISOString(), windowSeconds, region ?? null],
  );
  return rows.map((r) => ({
    region: r.region,
    carrier: 'unknown',
    recipients: r.recipients,
    rcs: share(r.rcs, r.recipients),
    rcsE2ee: share(r.rcs_e2ee, r.recipients),
    smsOnly: share(r.sms_only, r.recipients),
    unknown: share(r.recipients - r.rcs - r.sms_only, r.recipients),
  }));
}
