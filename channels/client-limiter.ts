// Per-client throttle, a fixed window per client address: the first `limit` requests of a window
// pass, later ones are refused until it ends. What counts as a request is the caller's choice
// (the shortlink page counts only guesses, the key directory every request). In memory, per
// process: each instance behind a load balancer throttles on its own, so the effective limit is
// multiplied by the number of instances.
//
// A client is its address as the server sees it (fastify's request.ip): behind a proxy without
// trustProxy that is the proxy, and every user shares one window. Callers must never let this
// limit stand between a user and a resource of their own (see shortlink-app.ts).
//
// IPv6 clients are counted per /64: one subscriber usually holds a whole /64 and can rotate
// through it freely.

import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';

export interface ClientLimitOptions {
  /** What one client may do per window. */
  limit: number;
  windowMs: number;
  /** Clients remembered at once (least recently seen forgotten first). Default 100 000. */
  maxClients?: number;
  now?: () => number;
}

interface Window {
  startedAt: number;
  count: number;
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
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly windows: LRUCache<string, Window>;

  constructor(options: ClientLimitOptions) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.now = options.now ?? Date.now;
    this.windows = new LRUCache({ max: options.maxClients ?? 100_000 });
  }

  /** Whether this client's window is used up, without counting anything. */
  check(ip: string): Admission {
    const window = this.windows.get(clientKey(ip));
    const now = this.now();
    if (!window || now - window.startedAt >= this.windowMs || window.count < this.limit)
      return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + this.windowMs - now) / 1000)),
    };
  }

  /**
   * Counts one request (or `weight` of them, all or none) from this client, or refuses it once
   * they would not fit in what is left of the client's window.
   */
  take(ip: string, weight = 1): Admission {
    const key = clientKey(ip);
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    if (window.count + weight > this.limit) {
      const left = window.startedAt + this.windowMs - now;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
    }
    window.count += weight;
    return { allowed: true };
  }

  /** Gives back one request taken in the current window (a reservation that turned out not to count). */
  refund(ip: string): void {
    const window = this.windows.get(clientKey(ip));
    if (window && this.now() - window.startedAt < this.windowMs && window.count > 0) window.count -= 1;
  }
}
