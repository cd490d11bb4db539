// Per-client throttle of the shortlink page: a fixed window per client address, counting all
// requests and, separately, requests for tokens that do not exist (guesses). Either count over
// its limit blocks the client until its window ends. In memory, per process: each instance
// behind a load balancer throttles on its own, so the effective limit is multiplied by the
// number of instances. The per-link limits (wrong codes, codes sent) are in PostgreSQL and hold
// across instances; this only slows down the search for a live token, which 144 random bits
// already make hopeless.
//
// IPv6 clients are counted per /64: one subscriber usually holds a whole /64 and can rotate
// through it freely.

import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';

export interface ClientLimitOptions {
  /** Unknown or malformed tokens one client may present per window. Default 10. */
  unknownTokens?: number;
  /** Requests one client may make to the page per window. Default 300 (mobile carriers NAT many users). */
  requests?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  /** Clients remembered at once (least recently seen forgotten first). Default 100 000. */
  maxClients?: number;
  now?: () => number;
}

interface Window {
  startedAt: number;
  requests: number;
  unknown: number;
}

export type Admission = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** The /64 of an IPv6 address (IPv4-mapped addresses count as their IPv4 address). */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = lower.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class ClientLimiter {
  private readonly unknownLimit: number;
  private readonly requestLimit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows: LRUCache<string, Window>;

  constructor(options: ClientLimitOptions = {}) {
    this.unknownLimit = options.unknownTokens ?? 10;
    this.requestLimit = options.requests ?? 300;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    this.windows = new LRUCache({ max: options.maxClients ?? 100_000 });
  }

  /** Counts one request from this client, or refuses it while the client is blocked. */
  admit(ip: string): Admission {
    const window = this.windowOf(clientKey(ip));
    if (window.requests >= this.requestLimit || window.unknown >= this.unknownLimit) {
      const left = window.startedAt + this.windowMs - this.now();
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
    }
    window.requests += 1;
    return { allowed: true };
  }

  /** Records that this client asked for a token that does not exist. */
  noteUnknownToken(ip: string): void {
    this.windowOf(clientKey(ip)).unknown += 1;
  }

  private windowOf(key: string): Window {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      window = { startedAt: now, requests: 0, unknown: 0 };
      this.windows.set(key, window);
    }
    return window;
  }
}
