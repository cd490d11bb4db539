// Synthetic probe runs, one row per run and recipient (by carrier and capability, never the
// number): what the probe's message came to and what the hub answered for the recipient. The
// probe metrics' gauges and the capability TTL suggestions read it.
import type { ProbeCapability, ProbeRecipientResult, ProbeRun } from '../domain/probes';
import type { CarrierChangeStats } from '../domain/capability-ttl';
import type { Database } from './database';

// Listed in store/migrations.ts.
export const probeResultsMigration = {
  id: 18,
  name: 'synthetic probe results',
  sql: `
    CREATE TABLE probe_results (
      probe_run_id    text        NOT NULL,
      region          text        NOT NULL,
      carrier         text        NOT NULL,
      capability      text        NOT NULL CHECK (capability IN ('rcs-e2ee', 'rcs', 'sms')),
      result          text        NOT NULL CHECK (result IN ('ok', 'fallback', 'failed', 'timeout')),
      channel         text,
      latency_ms      integer,
      fallback_reason text,
      -- The hub's answer at the probe, bypassing the cache: a capability class or 'error'.
      observed        text        NOT NULL CHECK (observed IN ('rcs-e2ee', 'rcs', 'sms', 'error')),
      e2ee            boolean     NOT NULL DEFAULT false,
      e2ee_negotiation_ms integer,
      occurred_at     timestamptz NOT NULL,
      PRIMARY KEY (probe_run_id, carrier, capability)
    );
    CREATE INDEX probe_results_recent ON probe_results (region, carrier, capability, occurred_at);
  `,
};

export interface ProbeHealth {
  region: string;
  carrier: string;
  capability: ProbeCapability;
  /** The latest probe's result was ok. */
  lastOk: boolean;
  /** Unix seconds of the latest ok probe; null when none is recorded. */
  lastSuccessAt: number | null;
  lastAt: number;
}

export class ProbeResults {
  constructor(private readonly db: Database) {}

  /** Inserts the run's rows; answers the results that were not recorded before. */
  async record(run: ProbeRun): Promise<ProbeRecipientResult[]> {
    const { rows } = await this.db.query<{ carrier: string; capability: string }>(
      `INSERT INTO probe_results (probe_run_id, region, carrier, capability, result, channel, latency_ms,
                                  fallback_reason, observed, e2ee, e2ee_negotiation_ms, occurred_at)
       SELECT $1, $2, r.carrier, r.capability, r.result, r.channel, r."latencyMs", r."fallbackReason", r.observed,
              r.e2ee, round(r."e2eeNegotiationMs"), $3
       FROM jsonb_to_recordset($4::jsonb) AS r(carrier text, capability text, result text, channel text,
                                                 "latencyMs" integer, "fallbackReason" text, observed text,
                                                 e2ee boolean, "e2eeNegotiationMs" double precision)
       ON CONFLICT DO NOTHING
       RETURNING carrier, capability`,
      [run.probeRunId, run.region, run.at, JSON.stringify(run.results)],
    );
    return run.results.filter((r) =>
      rows.some((n) => n.carrier === r.carrier && n.capability === r.capability),
    );
  }

  /**
   * Per region, carrier and capability: the latest result and the latest success, over the last
   * day (read on every scrape, so it stays small; a probe silent that long reads as never ok).
   */
  async health(): Promise<ProbeHealth[]> {
    const { rows } = await this.db.query<{
      region: string;
      carrier: string;
      capability: ProbeCapability;
      last_result: string;
      last_at: Date;
      last_ok_at: Date | null;
    }>(
      `SELECT DISTINCT ON (region, carrier, capability) region, carrier, capability,
              result AS last_result, occurred_at AS last_at,
              (SELECT max(occurred_at) FROM probe_results s
                WHERE s.region = p.region AND s.carrier = p.carrier AND s.capability = p.capability
                  AND s.result = 'ok' AND s.occurred_at > now() - interval '1 day') AS last_ok_at
       FROM probe_results p
       WHERE occurred_at > now() - interval '1 day'
       ORDER BY region, carrier, capability, occurred_at DESC`,
    );
    return rows.map((r) => ({
      region: r.region,
      carrier: r.carrier,
      capability: r.capability,
      lastOk: r.last_result === 'ok',
      lastSuccessAt: r.last_ok_at ? r.last_ok_at.getTime() / 1000 : null,
      lastAt: r.last_at.getTime() / 1000,
    }));
  }

  /**
   * Per region and carrier over the window: how many hub answers the probes saw, how often a
   * recipient's answer differed from its previous one, and for how long they watched (the sum of
   * each recipient's first-to-last span).
   */
  async capabilityChanges(windowSeconds: number): Promise<CarrierChangeStats[]> {
    const { rows } = await this.db.query<{
      region: string;
      carrier: string;
      answers: string;
      changes: string;
      observed_seconds: number;
    }>(
      `WITH seen AS (
         SELECT region, carrier, capability, observed, occurred_at,
                lag(observed) OVER (PARTITION BY region, carrier, capability ORDER BY occurred_at) AS before
         FROM probe_results
         WHERE observed <> 'error' AND occurred_at >= now() - make_interval(secs => $1::double precision)
       ),
       per_recipient AS (
         SELECT region, carrier, capability, count(*) AS answers,
                count(*) FILTER (WHERE before IS DISTINCT FROM observed AND before IS NOT NULL) AS changes,
                extract(epoch FROM max(occurred_at) - min(occurred_at))::double precision AS span
         FROM seen GROUP BY region, carrier, capability
       )
       SELECT region, carrier, sum(answers) AS answers, sum(changes) AS changes, sum(span) AS observed_seconds
       FROM per_recipient GROUP BY region, carrier ORDER BY region, carrier`,
      [windowSeconds],
    );
    return rows.map((r) => ({
      region: r.region,
      carrier: r.carrier,
      answers: Number(r.answers),
      changes: Number(r.changes),
      observedSeconds: Number(r.observed_seconds),
    }));
  }
}
