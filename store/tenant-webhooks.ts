// Each tenant's webhook: its default callback URL (nullable: per-message URLs only) and the secret
// its callbacks are signed with. The secret must be readable to sign with (HMAC), so it is kept
// sealed (AES-256-GCM, store/sealing.ts) under a key derived from the worker's secrets
// (deriveKey 'webhook-secrets'): the table alone, a dump or a replica, does not give it away.
import { randomBytes } from 'node:crypto';
import { validCallbackUrl } from '../domain/delivery-request';
import { validTenant } from '../domain/delivery-request';
import type { AuditLog } from './audit-log';
import type { Database } from './database';
import { open, seal } from './sealing';

// Listed in store/migrations.ts.
export const tenantWebhooksMigration = {
  id: 16,
  name: 'tenant webhooks',
  sql: `
    CREATE TABLE tenant_webhooks (
      tenant         text        PRIMARY KEY,
      default_url    text,
      secret_sealed  bytea       NOT NULL,
      created_at     timestamptz NOT NULL DEFAULT now(),
      rotated_at     timestamptz NOT NULL DEFAULT now()
    );
  `,
};

export interface TenantWebhook {
  tenant: string;
  defaultUrl: string | null;
  createdAt: string;
  rotatedAt: string;
}

/** A webhook secret is shown once, when it is made; Stripe's prefix makes a leaked one easy to spot. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export interface TenantWebhooksOptions {
  /** How long a rotated-out secret still signs beside the new one (CALLBACK_SECRET_GRACE_MS). */
  secretGraceMs?: number;
  /** Where set() records each change (the operator's CLI): trail `webhook-<tenant>`. */
  audit?: AuditLog;
}

export class TenantWebhooks {
  private readonly key: Buffer;

  /** `sealingKey`: 64 hex characters (deriveKey(secrets, 'webhook-secrets')). */
  constructor(
    private readonly db: Database,
    sealingKey: string,
    private readonly options: TenantWebhooksOptions = {},
  ) {
    this.key = Buffer.from(sealingKey, 'hex');
    if (this.key.length !== 32) throw new Error('sealingKey: 32 bytes as hex');
  }

  /**
   * Creates the tenant's webhook or rotates its secret (the one replaced is kept for the
   * sender's grace window); `url` undefined keeps the URL there is, null clears it. Returns the
   * new secret, the only time it is shown. Audited (never the secret) when an AuditLog is given.
   */
  async set(tenant: string, url?: string | null): Promise<{ webhook: TenantWebhook; secret: string }> {
    validTenant(tenant);
    if (url !== undefined && url !== null) validCallbackUrl(url, 'url');
    const secret = newSecret();
    const sealed = seal(this.key, Buffer.from(secret, 'utf8'), aad(tenant));
    const { rows } = await this.db.query<StoredRow>(
      `INSERT INTO tenant_webhooks (tenant, default_url, secret_sealed) VALUES ($1, $2, $3)
       ON CONFLICT (tenant) DO UPDATE SET secret_sealed = excluded.secret_sealed, rotated_at = now(),
         previous_secret_sealed = tenant_webhooks.secret_sealed,
         default_url = CASE WHEN $4 THEN excluded.default_url ELSE tenant_webhooks.default_url END
       RETURNING tenant, default_url, created_at, rotated_at`,
      [tenant, url ?? null, sealed, url !== undefined],
    );
    const webhook = toWebhook(rows[0] as StoredRow);
    await this.audited(webhook, url !== undefined);
    return { webhook, secret };
  }

  /** The sandbox's default: a webhook only if the tenant has none (an operator's settings stay). */
  async createIfMissing(tenant: string, url: string): Promise<boolean> {
    validTenant(tenant);
    validCallbackUrl(url, 'url');
    const sealed = seal(this.key, Buffer.from(newSecret(), 'utf8'), aad(tenant));
    const { rowCount } = await this.db.query(
      `INSERT INTO tenant_webhooks (tenant, default_url, secret_sealed) VALUES ($1, $2, $3)
       ON CONFLICT (tenant) DO NOTHING`,
      [tenant, url, sealed],
    );
    return (rowCount ?? 0) > 0;
  }

  async show(tenant: string): Promise<TenantWebhook | null> {
    const { rows } = await this.db.query<StoredRow>(
      'SELECT tenant, default_url, created_at, rotated_at FROM tenant_webhooks WHERE tenant = $1',
      [tenant],
    );
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  /** The current secret (what an app verifies with); null for a tenant without a webhook. */
  async secretFor(tenant: string): Promise<string | null> {
    return (await this.secretsFor(tenant, 0))[0] ?? null;
  }

  /**
   * The secrets to sign with, current first, then the one it replaced while the rotation is
   * younger than the grace window; none for a tenant without a webhook (its events are not sent).
   */
  async secretsFor(tenant: string, graceMs = this.options.secretGraceMs ?? 0): Promise<string[]> {
    const { rows } = await this.db.query<{ secret_sealed: Buffer; previous: Buffer | null }>(
      `SELECT secret_sealed,
              CASE WHEN rotated_at > now() - $2 * interval '1 millisecond' THEN previous_secret_sealed END AS previous
       FROM tenant_webhooks WHERE tenant = $1`,
      [tenant, graceMs],
    );
    const row = rows[0];
    if (!row) return [];
    return [row.secret_sealed, row.previous].flatMap((sealed) => {
      if (!sealed) return [];
      const secret = open(this.key, sealed, aad(tenant));
      if (!secret)
        throw new Error(`tenant_webhooks: the secret of tenant ${tenant} does not open with this key`);
      return [secret.toString('utf8')];
    });
  }

  /** An operator change joins the audit trail like API keys and exports do: what, never the secret. */
  private async audited(webhook: TenantWebhook, urlChanged: boolean): Promise<void> {
    const audit = this.options.audit;
    if (!audit) return;
    const trail = `webhook-${webhook.tenant}`;
    const created = webhook.createdAt === webhook.rotatedAt;
    // Two operators at once could pick the same seq (the second row would be dropped as a
    // repeat): try the next one.
    for (let tries = 0; tries < 3; tries++) {
      const seq = (await audit.lastSeq(trail)) + (created && tries === 0 ? 0 : 1);
      const added = await audit.appendHashed(
        { tenant: webhook.tenant, recipientHash: '', region: 'global', flow: 'webhook' },
        [
          {
            messageId: trail,
            seq,
            event: created ? 'webhook_created' : 'webhook_secret_rotated',
            channel: null,
            result: null,
            errorCode: null,
            detail: { urlChanged, defaultUrlSet: webhook.defaultUrl !== null, rotatedAt: webhook.rotatedAt },
            occurredAt: new Date().toISOString(),
          },
        ],
      );
      if (added.length > 0) return;
    }
  }
}

interface StoredRow {
  tenant: string;
  default_url: string | null;
  created_at: Date;
  rotated_at: Date;
}

const aad = (tenant: string) => `tenant_webhooks:secret:${tenant}`;

const toWebhook = (r: StoredRow): TenantWebhook => ({
  tenant: r.tenant,
  defaultUrl: r.default_url,
  createdAt: r.created_at.toISOString(),
  rotatedAt: r.rotated_at.toISOString(),
});
