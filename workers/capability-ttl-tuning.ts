import type { Logger } from 'pino';
import type { CapabilityTtls } from '../channels/rcs/capability-cache';
import { regionTtls, suggestTtl } from '../domain/capability-ttl';
import type { TtlSuggestion } from '../domain/capability-ttl';
import type { ProbeResults } from '../store/probe-results';

/** How far back the suggestions look: a day of probes (2 880 answers per recipient at 30 s). */
export const TTL_WINDOW_SECONDS = 86_400;
/** How often the worker re-reads the probe data with CAPABILITY_TTL_TUNING=true. */
export const TTL_TUNING_EVERY_MS = 300_000;

export async function ttlSuggestions(
  probes: Pick<ProbeResults, 'capabilityChanges'>,
  windowSeconds = TTL_WINDOW_SECONDS,
): Promise<TtlSuggestion[]> {
  return (await probes.capabilityChanges(windowSeconds)).map(suggestTtl);
}

/**
 * CAPABILITY_TTL_TUNING=true: now and every TTL_TUNING_EVERY_MS, each region's capability cache
 * takes the TTLs its carriers' probe data suggests (domain/capability-ttl.ts); a region without
 * a suggestion keeps its configured TTLs. A failed read changes nothing.
 */
export function startTtlTuning(options: {
  probes: Pick<ProbeResults, 'capabilityChanges'>;
  regions: string[];
  retune(region: string, ttls: CapabilityTtls | null): void;
  logger: Logger;
  everyMs?: number;
}): { stop(): void; tuned: Promise<void> } {
  const applied = new Map<string, string>();
  const tune = async () => {
    const byRegion = regionTtls(await ttlSuggestions(options.probes));
    for (const region of options.regions) {
      const ttls = byRegion.get(region) ?? null;
      options.retune(region, ttls);
      // Logged when a region's TTLs change, not every round.
      if (applied.get(region) !== JSON.stringify(ttls))
        options.logger.info({ region, ttls }, 'capability cache TTLs set from probe data');
      applied.set(region, JSON.stringify(ttls));
    }
  };
  const run = () =>
    tune().catch((err: unknown) => options.logger.warn({ err }, 'capability TTL tuning failed'));
  const tuned = run();
  const timer = setInterval(() => void run(), options.everyMs ?? TTL_TUNING_EVERY_MS);
  timer.unref();
  return { tuned, stop: () => clearInterval(timer) };
}
