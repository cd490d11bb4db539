import { isIP } from 'node:net';
import { z } from 'zod';

/** What fastify's trustProxy takes from SHORTLINK_TRUST_PROXY: no proxy, a hop count, or proxies. */
export type TrustProxy = false | number | string[];

// proxy-addr's names for ranges, accepted beside addresses and CIDRs.
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/**
 * `false` (the default: clients connect directly), a hop count (`1`: one proxy in front, the
 * client is the last X-Forwarded-For entry it appended), or a comma-separated list of the proxies'
 * addresses or CIDRs. `true` (trust every hop) is refused: any client could then name its own
 * address in X-Forwarded-For and escape its rate limit.
 */
export const trustProxySchema = z
  .string()
  .trim()
  .transform((raw, ctx): TrustProxy => {
    if (raw === 'false' || raw === '0') return false;
    if (/^\d+$/.test(raw)) return Number(raw);
    const entries = raw.split(',').map((e) => e.trim());
    if (raw !== 'true' && entries.every(isProxyAddress)) return entries;
    ctx.addIssue({
      code: 'custom',
      message: 'false, a hop count (e.g. 1), or a comma-separated list of proxy addresses or CIDRs',
    });
    return z.NEVER;
  });
