import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from './paths';
import type { Env } from './schema';

/**
 * The worker's key for lawful-access requests' private keys: ACCESS_REQUEST_KEK, else a random
 * key kept under DATA_DIR/worker/ (0600) that only the worker reads. Deliberately not derived
 * from AUDIT_HASH_KEY: the CLI and apps hold that one, and with this key and the database they
 * could open custodians' sealed shares.
 */
export function accessRequestKek(env: Env): Uint8Array {
  if (env.ACCESS_REQUEST_KEK) return new Uint8Array(Buffer.from(env.ACCESS_REQUEST_KEK, 'base64'));
  const dir = join(dataDir(env), 'worker');
  const file = join(dir, 'access-request.kek');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return new Uint8Array(key);
}
