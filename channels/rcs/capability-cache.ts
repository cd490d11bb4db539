// Capability answers in two tiers: an in-process LRU in front of a store shared by all
// workers. A fresh answer is served as is; a stale one is served at once while one background
// call refreshes it; past the max age the caller waits for the hub. Concurrent lookups of one
// number share a single load, so a burst to one recipient costs one hub call. Negative answers
// (404, not an RCS user) are cached like positive ones: they are the common case for SMS traffic.

import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import pino from 'pino';
import type { Logger } from 'pino';
import type { RcsCapabilities, RcsHub } from './types';

export interface CapabilityEntry {
  /** null: the hub answered 404, the number is not an RCS user. */
  capabilities: RcsCapabilities | null;
  /** Epoch ms when the hub gave this answer; ages are measured from it in every tier. */
  fetchedAt: number;
}

/** The tier shared across processes (PostgreSQL in production). Keys are E.164 numbers. */
export interface SharedCapabilityStore {
  get(key: string): Promise<CapabilityEntry | null>;
  put(key: string, entry: CapabilityEntry): Promise<void>;
}

export interface CapabilityTtls {
  /** Served without a hub call while younger than this. */
  freshTtlMs: number;
  /** Served stale (and refreshed in the background) until this age; older means a blocking hub call. */
  maxAgeMs: number;
}

/** Counts lookups (metrics): hit / stale from memory, miss answered by the shared tier or hub, error. */
export interface CapabilityCacheMeter {
  lookup(result: 'hit' | 'miss' | 'stale' | 'error'): void;
}

export interface CapabilityCacheOptions {
  meter?: CapabilityCacheMeter;
  hub: Pick<RcsHub, 'getCapabilities'>;
  shared?: SharedCapabilityStore;
  /** Defaults: fresh 30 s, max age 2 min. */
  ttls?: Partial<CapabilityTtls>;
  /** Region of a number, to pick an override from `regionTtls`; without it every number uses `ttls`. */
  regionOf?: (msisdn: string) => string | undefined;
  regionTtls?: Record<string, Partial<CapabilityTtls>>;
  maxEntries?: number;
  now?: () => number;
  logger?: Logger;
}

export interface CapabilityLookup {
  capabilities: RcsCapabilities | null;
  source: 'hub' | 'cache';
  stale: boolean;
  ageMs: number;
}

export interface CapabilityCacheStats {
  /** Answered from a fresh entry, in-process or shared. */
  hits: number;
  /** Answered from a stale entry while a refresh runs. */
  stale: number;
  /** No usable entry in memory: the caller waited for the shared tier or the hub. */
  misses: number;
  sharedHits: number;
  hubCalls: number;
  /** Lookups that joined a load already in flight instead of starting one. */
  coalesced: number;
  refreshFailures: number;
  sharedErrors: number;
}

interface Loaded {
  entry: CapabilityEntry;
  source: 'hub' | 'cache';
}

const DEFAULT_TTLS: CapabilityTtls = { freshTtlMs: 30_000, maxAgeMs: 120_000 };

export class CapabilityCache {
  readonly stats: CapabilityCacheStats = {
    hits: 0,
    stale: 0,
    misses: 0,
    sharedHits: 0,
    hubCalls: 0,
    coalesced: 0,
    refreshFailures: 0,
    sharedErrors: 0,
  };
  private readonly memory: LRUCache<string, CapabilityEntry>;
  private readonly inFlight = new Map<string, Promise<Loaded>>();
  private readonly now: () => number;
  private tuned: CapabilityTtls | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: CapabilityCacheOptions) {
    this.memory = new LRUCache({ max: options.maxEntries ?? 100_000 });
    this.now = options.now ?? Date.now;
    this.logger = (options.logger ?? pino({ enabled: false })).child({ component: 'capability-cache' });
  }

  async lookup(msisdn: string, requestId: string): Promise<CapabilityLookup> {
    const ttls = this.ttlsFor(msisdn);
    const cached = this.memory.get(msisdn);
    if (cached) {
      const ageMs = this.now() - cached.fetchedAt;
      if (ageMs < ttls.freshTtlMs) {
        this.stats.hits++;
        this.options.meter?.lookup('hit');
        return { capabilities: cached.capabilities, source: 'cache', stale: false, ageMs };
      }
      if (ageMs < ttls.maxAgeMs) {
        this.stats.stale++;
        this.options.meter?.lookup('stale');
        this.refreshInBackground(msisdn);
        return { capabilities: cached.capabilities, source: 'cache', stale: true, ageMs };
      }
    }
    this.stats.misses++;
    let loaded: Loaded;
    try {
      loaded = await this.load(msisdn, requestId, ttls);
    } catch (err) {
      this.options.meter?.lookup('error');
      throw err;
    }
    this.options.meter?.lookup('miss');
    const { entry, source } = loaded;
    const ageMs = Math.max(0, this.now() - entry.fetchedAt);
    const stale = ageMs >= ttls.freshTtlMs;
    // A stale entry from the shared tier is still an answer; refresh it behind the caller.
    if (stale) this.refreshInBackground(msisdn);
    return { capabilities: entry.capabilities, source, stale, ageMs };
  }

  /** Seeds both tiers with an answer obtained elsewhere (e.g. users:batchGet warming). */
  async prime(msisdn: string, capabilities: RcsCapabilities | null): Promise<void> {
    await this.store(msisdn, { capabilities, fetchedAt: this.now() });
  }

  /** Drops the in-process entry, e.g. after the hub refused a send the entry said would work. */
  invalidate(msisdn: string): void {
    this.memory.delete(msisdn);
  }

  /**
   * TTLs learnt from synthetic probes (CAPABILITY_TTL_TUNING): they take precedence over the
   * configured ones from the next lookup on; null goes back to the configured ones.
   */
  retune(ttls: CapabilityTtls | null): void {
    this.tuned = ttls;
  }

  private ttlsFor(msisdn: string): CapabilityTtls {
    const region = this.options.regionOf?.(msisdn);
    const override = region === undefined ? undefined : this.options.regionTtls?.[region];
    return { ...DEFAULT_TTLS, ...this.options.ttls, ...override, ...this.tuned };
  }

  /** One load per number at a time; later callers share the first one's promise. */
  private load(msisdn: string, requestId: string, ttls: CapabilityTtls, skipShared = false): Promise<Loaded> {
    const running = this.inFlight.get(msisdn);
    if (running) {
      this.stats.coalesced++;
      return running;
    }
    const started = this.fetch(msisdn, requestId, ttls, skipShared).finally(() =>
      this.inFlight.delete(msisdn),
    );
    this.inFlight.set(msisdn, started);
    return started;
  }

  private async fetch(
    msisdn: string,
    requestId: string,
    ttls: CapabilityTtls,
    skipShared: boolean,
  ): Promise<Loaded> {
    if (!skipShared) {
      const shared = await this.readShared(msisdn);
      if (shared && this.now() - shared.fetchedAt < ttls.maxAgeMs) {
        this.stats.sharedHits++;
        this.memory.set(msisdn, shared);
        return { entry: shared, source: 'cache' };
      }
    }
    this.stats.hubCalls++;
    const capabilities = await this.options.hub.getCapabilities(msisdn, requestId);
    const entry: CapabilityEntry = { capabilities, fetchedAt: this.now() };
    await this.store(msisdn, entry);
    return { entry, source: 'hub' };
  }

  private refreshInBackground(msisdn: string): void {
    if (this.inFlight.has(msisdn)) return;
    // Straight to the hub: the stale entry may have come from the shared tier a moment ago.
    this.load(msisdn, randomUUID(), this.ttlsFor(msisdn), true).catch((err: unknown) => {
      this.stats.refreshFailures++;
      this.logger.warn({ error: err instanceof Error ? err.name : 'unknown' }, 'capability refresh failed');
    });
  }

  private async store(msisdn: string, entry: CapabilityEntry): Promise<void> {
    this.memory.set(msisdn, entry);
    if (!this.options.shared) return;
    try {
      await this.options.shared.put(msisdn, entry);
    } catch (err) {
      // The shared tier is an optimisation: losing a write costs another process one hub call.
      this.stats.sharedErrors++;
      this.logger.warn(
        { error: err instanceof Error ? err.name : 'unknown' },
        'shared capability store write failed',
      );
    }
  }

  private async readShared(msisdn: string): Promise<CapabilityEntry | null> {
    if (!this.options.shared) return null;
    try {
      return await this.options.shared.get(msisdn);
    } catch (err) {
      this.stats.sharedErrors++;
      this.logger.warn(
        { error: err instanceof Error ? err.name : 'unknown' },
        'shared capability store read failed',
      );
      return null;
    }
  }
}

/** A SharedCapabilityStore in process memory: for tests and single-process sandboxes. */
export class InMemorySharedCapabilityStore implements SharedCapabilityStore {
  readonly entries = new Map<string, CapabilityEntry>();
  get(key: string): Promise<CapabilityEntry | null> {
    return Promise.resolve(this.entries.get(key) ?? null);
  }
  put(key: string, entry: CapabilityEntry): Promise<void> {
    this.entries.set(key, entry);
    return Promise.resolve();
  }
}
