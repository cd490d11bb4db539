import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Env } from './schema';

export interface Secrets {
  codecKeys: string;
  codecActiveKey: string;
  auditHashKey: string;
}

/**
 * Secrets come from the environment. For a local run without them, a key file is made once
 * under DATA_DIR (mode 0600) so that the stack, the CLI and restarts all agree; production
 * deployments set CODEC_KEYS, CODEC_ACTIVE_KEY and AUDIT_HASH_KEY instead.
 */
export function resolveSecrets(env: Env): Secrets {
  if (env.CODEC_KEYS && env.AUDIT_HASH_KEY) {
    const firstId = env.CODEC_KEYS.split(',')[0]?.split(':')[0] ?? '';
    return {
      codecKeys: env.CODEC_KEYS,
      codecActiveKey: env.CODEC_ACTIVE_KEY ?? firstId,
      auditHashKey: env.AUDIT_HASH_KEY,
    };
  }
  const file = join(env.DATA_DIR, 'local-secrets.json');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const local: Secrets = {
      codecKeys: `local1:${randomBytes(32).toString('base64')}`,
      codecActiveKey: 'local1',
      auditHashKey: randomBytes(32).toString('hex'),
    };
    try {
      writeFileSync(file, JSON.stringify(local, null, 2), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process (the CLI, a second worker) made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  return {
    codecKeys: env.CODEC_KEYS ?? stored.codecKeys,
    codecActiveKey:
      env.CODEC_ACTIVE_KEY ?? (env.CODEC_KEYS ? (env.CODEC_KEYS.split(':')[0] ?? '') : stored.codecActiveKey),
    auditHashKey: env.AUDIT_HASH_KEY ?? stored.auditHashKey,
  };
}

export type DerivedKeyPurpose =
  | 'capability-cache'
  | 'cohort'
  | 'preferences'
  | 'codec-server'
  | 'shortlink-kek'
  | 'key-directory'
  | 'key-directory-api'
  | 'app-e2ee-state'
  | 'message-id'
  | 'webhook-secrets'
  | 'api-idempotency'
  | 'api-cursor'
  | 'receipt-match';

/**
 * Keys and tokens for every other purpose (keyed hashes of tables, local tokens), derived from
 * the audit key so a local run has one secret to manage, yet no two uses share a value.
 */
export function deriveKey(secrets: Secrets, purpose: DerivedKeyPurpose): string {
  return createHmac('sha256', secrets.auditHashKey).update(purpose).digest('hex');
}
