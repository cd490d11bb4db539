// The MLS KeyPackage directory on PostgreSQL (migration 6). Devices publish KeyPackages under
// (number, device id); a sender claims one per device of the number. One-time packages are
// deleted by the claim that takes them (FOR UPDATE SKIP LOCKED, so concurrent claims never get
// the same one); a device's last-resort package is returned, never deleted, once its one-time
// packages run out. Numbers are stored only as HMAC-SHA256 under the directory's key: without
// the key, the table names nobody. Nothing here logs.

import { createHmac } from 'node:crypto';
import { inTransaction } from '../store/database';
import type { Database } from '../store/database';
import { keyPackageRef } from './mls';

export interface ClaimedKeyPackage {
  deviceId: string;
  /** MLSMessage-encoded KeyPackage, as published. */
  keyPackage: Uint8Array;
  lastResort: boolean;
}

/** What a sender needs from a directory. */
export interface KeyPackageSource {
  /** One KeyPackage per device of the number; [] when the number has none. */
  claim(msisdn: string): Promise<ClaimedKeyPackage[]>;
}

export interface PublishRequest {
  /** One-time KeyPackages, appended to the device's pool. */
  oneTime?: readonly Uint8Array[];
  /** Replaces the device's last-resort KeyPackage. */
  lastResort?: Uint8Array;
}

/** What a device needs from a directory. */
export interface KeyPackagePublisher {
  publish(msisdn: string, deviceId: string, request: PublishRequest): Promise<void>;
  /** One-time KeyPackages left for the number (one device, or all of them). */
  count(msisdn: string, deviceId?: string): Promise<number>;
  /** Per-device stock; lets a device find (and remove) stale devices of its number. */
  inventory?(msisdn: string): Promise<DeviceInventory[]>;
  removeDevice?(msisdn: string, deviceId: string): Promise<number>;
}

export interface DeviceInventory {
  deviceId: string;
  oneTime: number;
  lastResort: boolean;
}

/** Never carries a number, a hash or a KeyPackage: a caller may log it. */
export class KeyDirectoryError extends Error {
  override readonly name = 'KeyDirectoryError';
  constructor(readonly code: 'INVALID_DEVICE_ID' | 'DUPLICATE_KEY_PACKAGE') {
    super(`key directory: ${code}`);
  }
}

const MIN_HASH_KEY_LENGTH = 16;
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const CLAIM_SQL = `
  WITH devices AS (
    SELECT DISTINCT device_id FROM e2ee_key_packages WHERE msisdn_hash = $1
  ),
  picked AS (
    SELECT k.id
    FROM devices d
    CROSS JOIN LATERAL (
      SELECT id FROM e2ee_key_packages
      WHERE msisdn_hash = $1 AND device_id = d.device_id AND NOT last_resort
      ORDER BY id
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    ) k
  ),
  consumed AS (
    DELETE FROM e2ee_key_packages WHERE id IN (SELECT id FROM picked)
    RETURNING device_id, key_package
  )
  SELECT device_id, key_package, false AS last_resort FROM consumed
  UNION ALL
  SELECT l.device_id, l.key_package, true AS last_resort
  FROM e2ee_key_packages l
  WHERE l.msisdn_hash = $1 AND l.last_resort
    AND l.device_id NOT IN (SELECT device_id FROM consumed)
  ORDER BY device_id
`;

export class PostgresKeyDirectory implements KeyPackageSource, KeyPackagePublisher {
  constructor(
    private readonly db: Database,
    private readonly hashKey: string | Buffer,
  ) {
    if (hashKey.length < MIN_HASH_KEY_LENGTH) {
      throw new Error(`key directory hash key must be at least ${MIN_HASH_KEY_LENGTH} bytes`);
    }
  }

  /** HMAC-SHA256(hashKey, "e2ee-kp\0" ‖ msisdn) as hex: the row key. */
  hashMsisdn(msisdn: string): string {
    return createHmac('sha256', this.hashKey).update('e2ee-kp\0').update(msisdn).digest('hex');
  }

  /**
   * Validates every KeyPackage (framing, cipher suite, signature) before storing any: a bad one
   * throws E2eeKeyNegotiationError('BAD_KEY_PACKAGE') and nothing is written.
   */
  async publish(msisdn: string, deviceId: string, request: PublishRequest): Promise<void> {
    if (!DEVICE_ID.test(deviceId)) throw new KeyDirectoryError('INVALID_DEVICE_ID');
    const hash = this.hashMsisdn(msisdn);
    const oneTime = request.oneTime ?? [];
    const oneTimeRefs: string[] = [];
    for (const kp of oneTime) oneTimeRefs.push(await keyPackageRef(kp));
    const lastResortRef = request.lastResort ? await keyPackageRef(request.lastResort) : null;

    try {
      await inTransaction(this.db, async (client) => {
        if (oneTime.length > 0) {
          await client.query(
            `INSERT INTO e2ee_key_packages (msisdn_hash, device_id, key_package, key_package_ref)
           SELECT $1, $2, kp, ref FROM unnest($3::bytea[], $4::text[]) AS t(kp, ref)`,
            [hash, deviceId, oneTime.map((kp) => Buffer.from(kp)), oneTimeRefs],
          );
        }
        if (request.lastResort && lastResortRef) {
          await client.query(
            `INSERT INTO e2ee_key_packages (msisdn_hash, device_id, key_package, key_package_ref, last_resort)
           VALUES ($1, $2, $3, $4, true)
           ON CONFLICT (msisdn_hash, device_id) WHERE last_resort
           DO UPDATE SET key_package = EXCLUDED.key_package, key_package_ref = EXCLUDED.key_package_ref,
                         published_at = now()`,
            [hash, deviceId, Buffer.from(request.lastResort), lastResortRef],
          );
        }
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new KeyDirectoryError('DUPLICATE_KEY_PACKAGE');
      throw err;
    }
  }

  async claim(msisdn: string): Promise<ClaimedKeyPackage[]> {
    const { rows } = await this.db.query<{ device_id: string; key_package: Buffer; last_resort: boolean }>(
      CLAIM_SQL,
      [this.hashMsisdn(msisdn)],
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      keyPackage: new Uint8Array(r.key_package),
      lastResort: r.last_resort,
    }));
  }

  async count(msisdn: string, deviceId?: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM e2ee_key_packages
       WHERE msisdn_hash = $1 AND NOT last_resort AND ($2::text IS NULL OR device_id = $2)`,
      [this.hashMsisdn(msisdn), deviceId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Per device: one-time packages left, and whether a last-resort one is there. */
  async inventory(msisdn: string): Promise<DeviceInventory[]> {
    const { rows } = await this.db.query<{ device_id: string; one_time: string; last_resort: boolean }>(
      `SELECT device_id, count(*) FILTER (WHERE NOT last_resort) AS one_time, bool_or(last_resort) AS last_resort
       FROM e2ee_key_packages WHERE msisdn_hash = $1 GROUP BY device_id ORDER BY device_id`,
      [this.hashMsisdn(msisdn)],
    );
    return rows.map((r) => ({
      deviceId: r.device_id,
      oneTime: Number(r.one_time),
      lastResort: r.last_resort,
    }));
  }

  /** Whether a claim would return anything: backs the E2EE_MLS capability. */
  async hasKeyPackages(msisdn: string): Promise<boolean> {
    const { rows } = await this.db.query(`SELECT 1 FROM e2ee_key_packages WHERE msisdn_hash = $1 LIMIT 1`, [
      this.hashMsisdn(msisdn),
    ]);
    return rows.length > 0;
  }

  /** Forgets a device (lost phone, reinstall): its packages can no longer be claimed. */
  async removeDevice(msisdn: string, deviceId: string): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM e2ee_key_packages WHERE msisdn_hash = $1 AND device_id = $2`,
      [this.hashMsisdn(msisdn), deviceId],
    );
    return rowCount ?? 0;
  }
}
