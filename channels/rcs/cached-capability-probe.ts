// The capability probe the activities call, answered through the two-tier CapabilityCache
// instead of asking the hub every time.

import type { RecipientCapability } from '../../domain/message';
import type { CapabilityCache, CapabilityCacheStats } from './capability-cache';
import { capabilityFromFeatures } from './capability-probe';

export class CachedCapabilityProbe {
  constructor(private readonly cache: CapabilityCache) {}

  /**
   * `source` is 'cache' when either tier (in-process or shared) answered, stale answers
   * included; 'hub' when this call waited for the hub. Hub failures on a miss propagate as
   * RcsTransientError / RcsPermanentError, exactly as from the hub client.
   */
  async probe(msisdn: string, requestId: string): Promise<RecipientCapability> {
    const answer = await this.cache.lookup(msisdn, requestId);
    return { ...capabilityFromFeatures(answer.capabilities), source: answer.source };
  }

  /** A snapshot of the cache's counters, e.g. for a metrics endpoint. */
  get stats(): CapabilityCacheStats {
    return { ...this.cache.stats };
  }
}
