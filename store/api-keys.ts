// Tenants and their API keys (the REST API's front door, api/). A key is shown once, when it is
// made; PostgreSQL keeps only a slow hash of its secret (scrypt, a salt per key), so a dump of
// the table lets nobody in. A presented key is found by its id and its secret compared in
// constant time. Revoking is a timestamp, never a delete: the audit trail keeps pointing at it.

import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { TENANT_PATTERN } from '../domain/media';
import { API_KEY_ID_PATTERN, formatApiKey, parseApiKey } from '../domain/api-key';
import type { ApiScope } from '../domain/api-key';
import type { AuditLog } from './audit-log';
import type { Database } from './database';

const scryptAsync = promisify(scrypt) as (secret: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const HASH_BYTES = 32;

// Listed in store/migrations.ts.
export const apiKeysMigration = {
  id: 14,
  name: 'tenants and api keys',
  sql: `
    CREATE TABLE tenants (
      id         text        PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    );
    -- secret_hash = scrypt(secret, salt); the secret itself is never stored.
    CREATE TABLE api_keys (
      id          text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
      tenant      text        NOT NULL REFERENCES tenants (id),
      scopes      text[]      NOT NULL CHECK (scopes <@ ARRAY['send', 'read'] AND cardinality(scopes) > 0),
      salt        bytea       NOT NULL,
      secret_hash bytea       NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now(),
      revoked_at  timestamptz
    );
    CREATE INDEX api_keys_tenant ON api_keys (tenant);
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_app') THEN
        GRANT SELECT, INSERT ON tenants TO switchboard_app;
        GRANT SELECT, INSERT, UPDATE ON api_keys TO switchboard_app;
      END IF;
    END $$;
  `,
};

export class TenantError extends Error {
  override readonly name = 'TenantError';
}

export interface ApiKeyInfo {
  keyId: string;
  tenant: string;
  scopes: ApiScope[];
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  tenant: string;
  scopes: ApiScope[];
  salt: Buffer;
  secret_hash: Buffer;
  created_at: Date;
  revoked_at: Date | null;
}

const info = (r: Row): ApiKeyInfo => ({
  keyId: r.id,
  tenant: r.tenant,
  scopes: r.scopes,
  createdAt: r.created_at.toISOString(),
  revokedAt: r.revoked_at ? r.revoked_at.toISOString() : null,
});

const fingerprintOf = (keyId: string, secret: string) =>
  createHash('sha256').update(`${keyId}\0${secret}`).digest();

export class ApiKeyStore {
  /** Secrets already proven against their row's hash (SHA-256 of key id and secret): scrypt once per key and process. */
  private readonly proven = new Map<string, Buffer>();

  constructor(
    private readonly db: Database,
    /** Key creation and revocation are audited (trail `apikey-<keyId>`) when given. */
    private readonly audit: AuditLog | null = null,
  ) {}

  async createTenant(id: string): Promise<{ tenant: string; created: boolean }> {
    if (!TENANT_PATTERN.test(id)) throw new TenantError('tenant: lowercase letters, digits and dashes');
    const { rowCount } = await this.db.query('INSERT INTO tenants (id) VALUES ($1) ON CONFLICT DO NOTHING', [
      id,
    ]);
    return { tenant: id, created: (rowCount ?? 0) > 0 };
  }

  /** A new key for the tenant; the returned `apiKey` is the only time the secret exists outside the app. */
  async create(tenant: string, scopes: ApiScope[]): Promise<ApiKeyInfo & { apiKey: string }> {
    const { rows: known } = await this.db.query('SELECT 1 FROM tenants WHERE id = $1', [tenant]);
    if (known.length === 0) throw new TenantError(`tenant: no tenant named so (switchboard tenant create)`);
    const keyId = randomBytes(12).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scryptAsync(secret, salt, HASH_BYTES);
    const { rows } = await this.db.query<Row>(
      `INSERT INTO api_keys (id, tenant, scopes, salt, secret_hash) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, tenant, scopes, salt, secret_hash, created_at, revoked_at`,
      [keyId, tenant, scopes, salt, hash],
    );
    const created = info(rows[0]!);
    await this.record(created, 0, 'apikey_created');
    return { ...created, apiKey: formatApiKey(keyId, secret) };
  }

  async list(tenant?: string): Promise<ApiKeyInfo[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT id, tenant, scopes, salt, secret_hash, created_at, revoked_at FROM api_keys
       WHERE $1::text IS NULL OR tenant = $1 ORDER BY created_at, id`,
      [tenant ?? null],
    );
    return rows.map(info);
  }

  /** Revokes a key at once (every request reads its row); false when there is no such live key. */
  async revoke(keyId: string): Promise<boolean> {
    if (!API_KEY_ID_PATTERN.test(keyId)) return false;
    const { rows } = await this.db.query<Row>(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
       RETURNING id, tenant, scopes, salt, secret_hash, created_at, revoked_at`,
      [keyId],
    );
    if (!rows[0]) return false;
    await this.record(info(rows[0]), 1, 'apikey_revoked');
    return true;
  }

  /**
   * Whether this exact key was already proven against its hash in this process: checking it again
   * needs no scrypt, only its row (for revocation). No PostgreSQL here.
   */
  isProven(presented: string): boolean {
    const parsed = parseApiKey(presented);
    const proven = parsed && this.proven.get(parsed.keyId);
    return !!proven && timingSafeEqual(proven, fingerprintOf(parsed.keyId, parsed.secret));
  }

  /** The live key a presented string stands for, or null (malformed, unknown, wrong secret, revoked). */
  async verify(presented: string): Promise<ApiKeyInfo | null> {
    const parsed = parseApiKey(presented);
    if (!parsed) return null;
    const { rows } = await this.db.query<Row>(
      `SELECT id, tenant, scopes, salt, secret_hash, created_at, revoked_at FROM api_keys WHERE id = $1`,
      [parsed.keyId],
    );
    const row = rows[0];
    if (!row || row.revoked_at) return null;
    const fingerprint = fingerprintOf(parsed.keyId, parsed.secret);
    const proven = this.proven.get(row.id);
    if (proven && timingSafeEqual(proven, fingerprint)) return info(row);
    const hash = await scryptAsync(parsed.secret, row.salt, HASH_BYTES);
    if (hash.length !== row.secret_hash.length || !timingSafeEqual(hash, row.secret_hash)) return null;
    this.proven.set(row.id, fingerprint);
    return info(row);
  }

  private async record(key: ApiKeyInfo, seq: number, event: string): Promise<void> {
    await this.audit?.appendHashed(
      { tenant: key.tenant, recipientHash: '', region: 'global', flow: 'apikey' },
      [
        {
          messageId: `apikey-${key.keyId}`,
          seq,
          event,
          channel: null,
          result: null,
          errorCode: null,
          detail: { keyId: key.keyId, scopes: key.scopes.join(',') },
          occurredAt: new Date().toISOString(),
        },
      ],
    );
  }
}
