import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database } from './database';

// Lawful-access requests (table in store/escrow-migration.ts). Each open request holds one
// private HPKE key, sealed here under a key only the worker holds (ACCESS_REQUEST_KEK, never
// derived from the secrets the CLI and apps share); closing or expiring a request erases it.
// Copies of the sealed value that PostgreSQL keeps elsewhere (WAL, backups) stay sealed.

export type AccessOutcome = 'granted' | 'refused';

export interface AccessRequestRow {
  requestId: string;
  escrowId: string;
  tenant: string;
  digest: string;
  outcome: AccessOutcome | null;
  /** What a granted request returned, so that a retried activity returns it again. */
  result: string | null;
}

/** The request is closed, expired or was never opened: its key is gone. */
export class AccessRequestClosedError extends Error {
  override readonly name = 'AccessRequestClosedError';
  constructor() {
    super('lawful-access request is closed');
  }
}

/** The sealed key does not open under this worker's key (ACCESS_REQUEST_KEK changed?). */
export class AccessRequestKeyError extends Error {
  override readonly name = 'AccessRequestKeyError';
  constructor() {
    super('lawful-access request key does not unseal under ACCESS_REQUEST_KEK');
  }
}

export type OpenResult = { opened: true; publicKey: string } | { opened: false; reason: 'reused' };

export class AccessRequests {
  private readonly key: Buffer;

  /** `kek`: 32 bytes, the worker's own (never in the database, never known to the CLI). */
  constructor(
    private readonly db: Database,
    kek: Uint8Array,
  ) {
    this.key = Buffer.from(kek);
    if (this.key.length !== 32) throw new Error('ACCESS_REQUEST_KEK must be 32 bytes');
  }

  /**
   * Opens the request with this key pair. Opening the same request again while it is open (a
   * retried activity) returns the first public key; a closed request, or another request under
   * the same id, is `reused` and never reopens.
   */
  async open(input: {
    requestId: string;
    escrowId: string;
    tenant: string;
    digest: string;
    publicKey: string;
    privateKey: Uint8Array;
    expiresAt: Date;
  }): Promise<OpenResult> {
    await this.db.query(
      `INSERT INTO e2ee_access_requests
         (request_id, escrow_id, tenant, request_digest, public_key, sealed_key, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING`,
      [
        input.requestId,
        input.escrowId,
        input.tenant,
        input.digest,
        input.publicKey,
        this.seal(input.requestId, input.privateKey),
        input.expiresAt,
      ],
    );
    const { rows } = await this.db.query<{
      public_key: string;
      request_digest: string;
      outcome: string | null;
    }>('SELECT public_key, request_digest, outcome FROM e2ee_access_requests WHERE request_id = $1', [
      input.requestId,
    ]);
    const row = rows[0];
    if (!row || row.outcome !== null || row.request_digest !== input.digest)
      return { opened: false, reason: 'reused' };
    return { opened: true, publicKey: row.public_key };
  }

  async get(requestId: string): Promise<AccessRequestRow | null> {
    const { rows } = await this.db.query<{
      escrow_id: string;
      tenant: string;
      request_digest: string;
      outcome: AccessOutcome | null;
      result: string | null;
    }>(
      'SELECT escrow_id, tenant, request_digest, outcome, result FROM e2ee_access_requests WHERE request_id = $1',
      [requestId],
    );
    const r = rows[0];
    return r
      ? {
          requestId,
          escrowId: r.escrow_id,
          tenant: r.tenant,
          digest: r.request_digest,
          outcome: r.outcome,
          result: r.result,
        }
      : null;
  }

  /** The open request's private key; AccessRequestClosedError once it is closed or expired. */
  async privateKey(requestId: string): Promise<Uint8Array> {
    const { rows } = await this.db.query<{ sealed_key: Buffer | null }>(
      `SELECT sealed_key FROM e2ee_access_requests
       WHERE request_id = $1 AND outcome IS NULL AND expires_at > now()`,
      [requestId],
    );
    const sealed = rows[0]?.sealed_key;
    if (!sealed) throw new AccessRequestClosedError();
    return this.unseal(requestId, sealed);
  }

  /** Erases the key and records the outcome; a second close changes nothing. */
  async close(requestId: string, outcome: AccessOutcome, result: string | null): Promise<void> {
    await this.db.query(
      `UPDATE e2ee_access_requests SET sealed_key = NULL, outcome = $2, result = $3, closed_at = now()
       WHERE request_id = $1 AND outcome IS NULL`,
      [requestId, outcome, result],
    );
  }

  /** Closes (refused) every open request past its expiry, erasing its key; returns them. */
  async expireStale(): Promise<{ requestId: string; tenant: string }[]> {
    const { rows } = await this.db.query<{ request_id: string; tenant: string }>(
      `UPDATE e2ee_access_requests SET sealed_key = NULL, outcome = 'refused', closed_at = now()
       WHERE outcome IS NULL AND expires_at <= now() RETURNING request_id, tenant`,
    );
    return rows.map((r) => ({ requestId: r.request_id, tenant: r.tenant }));
  }

  private seal(requestId: string, privateKey: Uint8Array): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(requestId));
    const ct = Buffer.concat([cipher.update(privateKey), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  private unseal(requestId: string, sealed: Buffer): Uint8Array {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(requestId));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]));
    } catch {
      throw new AccessRequestKeyError();
    }
  }
}
