// Which hub failures are worth retrying. The workflow's retry policy names the error types, so
// this one table decides whether a message is retried over RCS or falls back to SMS.

import { RcsPermanentError, RcsTransientError } from './errors';

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Anything else is
 * ignored rather than trusted: a bad header must not stall a retry.
 */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** An HTTP answer that is not the success we asked for. */
export function classifyHttpFailure(
  status: number,
  retryAfter: string | string[] | undefined,
  now = Date.now(),
): RcsTransientError | RcsPermanentError {
  // 429 and 5xx: the hub is alive but cannot take this now; another attempt may succeed.
  if (status === 429 || status >= 500) {
    return new RcsTransientError(String(status), parseRetryAfter(retryAfter, now));
  }
  // Every other 4xx says the request itself is wrong (bad number, bad token, unsupported
  // content): repeating it changes nothing, so fall back at once.
  return new RcsPermanentError(String(status));
}

/** No HTTP answer at all. The request may or may not have reached the hub; sends are idempotent. */
export function classifyTransportFailure(timedOut: boolean): RcsTransientError {
  return new RcsTransientError(timedOut ? 'timeout' : 'network');
}
