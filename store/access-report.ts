import type { Database } from './database';

// The lawful-access transparency report (the article's "transparency reports"): how many
// requests each tenant saw in a window and what became of them, from the audit trail alone.

export interface AccessReportRow {
  tenant: string;
  requests: number;
  granted: number;
  /** By refusal reason: deadline_passed, not_archived, mixed_escrows, grant_failed. */
  refused: Record<string, number>;
  messagesOpened: number;
  approvalsAccepted: number;
  approvalsRejected: number;
}

export async function accessReport(
  db: Database,
  window: { from?: Date; to?: Date },
): Promise<AccessReportRow[]> {
  const { rows } = await db.query<{
    tenant: string;
    event: string;
    result: string | null;
    error_code: string | null;
    n: string;
  }>(
    `SELECT tenant, event, result, error_code, count(*) AS n FROM audit_log
     WHERE flow = 'lawful-access' AND ($1::timestamptz IS NULL OR occurred_at >= $1)
       AND ($2::timestamptz IS NULL OR occurred_at < $2)
     GROUP BY tenant, event, result, error_code ORDER BY tenant`,
    [window.from ?? null, window.to ?? null],
  );
  const byTenant = new Map<string, AccessReportRow>();
  for (const r of rows) {
    let row = byTenant.get(r.tenant);
    if (!row) {
      row = {
        tenant: r.tenant,
        requests: 0,
        granted: 0,
        refused: {},
        messagesOpened: 0,
        approvalsAccepted: 0,
        approvalsRejected: 0,
      };
      byTenant.set(r.tenant, row);
    }
    const n = Number(r.n);
    if (r.event === 'access_requested') row.requests += n;
    else if (r.event === 'access_granted') row.granted += n;
    else if (r.event === 'access_refused') {
      const reason = r.error_code ?? 'unknown';
      row.refused[reason] = (row.refused[reason] ?? 0) + n;
    } else if (r.event === 'escrowed_message_opened' && r.result === 'opened') row.messagesOpened += n;
    else if (r.event === 'custodian_approval') {
      if (r.result === 'accepted') row.approvalsAccepted += n;
      else row.approvalsRejected += n;
    }
  }
  return [...byTenant.values()];
}
