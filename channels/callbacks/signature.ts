// Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> under the
// tenant's webhook secret (Stripe's scheme). The timestamp is signed too, so a captured request
// replayed later fails the tolerance check. After a rotation, for CALLBACK_SECRET_GRACE_MS, the
// header carries a v1= under the new secret and one under the previous (an app that has not
// switched yet still verifies); a verifier accepts the header when any v1= matches its secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Switchboard-Signature';
/** How old a signature may be by default: 5 minutes, either way (clock skew). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, t: number, body: string | Buffer) =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

/** The header value for `body`, signed at `t` (Unix seconds), one v1= per secret (current first). */
export function signCallback(
  secrets: string | readonly string[],
  body: string | Buffer,
  t = Math.floor(Date.now() / 1000),
): string {
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${t}`, ...all.map((s) => `v1=${hmac(s, t, body)}`)].join(',');
}

/** A tolerance that is not a finite number ≥ 0 (NaN would compare false and accept any age). */
export class SignatureToleranceError extends RangeError {
  override readonly name = 'SignatureToleranceError';
}

export type SignatureCheck =
  { valid: true; timestamp: number } | { valid: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * For apps: checks a callback before trusting it. `body` must be the raw bytes as received (a
 * re-serialised JSON object would not match). `now` in Unix seconds, for tests. A tolerance that
 * is not a finite number ≥ 0 throws SignatureToleranceError (it would disable replay protection).
 */
export function verifyCallbackSignature(input: {
  secret: string;
  header: string | undefined | null;
  body: string | Buffer;
  toleranceSeconds?: number;
  now?: number;
}): SignatureCheck {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0)
    throw new SignatureToleranceError(
      `toleranceSeconds: a finite number of seconds ≥ 0, got ${String(tolerance)}`,
    );
  const parts = (input.header ?? '').split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const candidates = parts.filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? '')).map(([, v]) => v);
  if (!Number.isInteger(t) || candidates.length === 0) return { valid: false, reason: 'malformed' };
  const now = input.now ?? Math.floor(Date.now() / 1000);
  if (!(Math.abs(now - t) <= tolerance)) return { valid: false, reason: 'stale' };
  const expected = Buffer.from(hmac(input.secret, t, input.body), 'hex');
  const matches = candidates.some((v) => timingSafeEqual(Buffer.from(v as string, 'hex'), expected));
  return matches ? { valid: true, timestamp: t } : { valid: false, reason: 'mismatch' };
}
