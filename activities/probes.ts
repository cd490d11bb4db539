import { randomUUID } from 'node:crypto';
import { capabilityFromFeatures } from '../channels/rcs/capability-probe';
import type { ObservedCapability, ProbeRecipient, ProbeRecipientResult, ProbeRun } from '../domain/probes';
import { capabilityClass } from '../domain/probes';
import type { E2eePayload } from '../domain/message';
import { sealForRecipient } from '../client/e2ee-sealing';
import type { MessageSealer } from '../client/e2ee-sealing';
import type { RegionalChannels } from './deps';

/** Where probe runs are kept (store/probe-results.ts); answers which results were new. */
export interface ProbeResultSink {
  record(run: ProbeRun): Promise<ProbeRecipientResult[]>;
}

/** Probe metrics (metrics/probe-meter.ts), handed only the results a write inserted. */
export interface ProbeMeter {
  recorded(region: string, results: ProbeRecipientResult[]): void;
}

/** The synthetic probe's side effects: a cache-bypassing capability check, and recording a run. */
export function createProbeActivities(deps: {
  channels: RegionalChannels;
  probes: ProbeResultSink;
  meter: ProbeMeter;
  /** The worker as a sending app (its own MLS state): what the rcs-e2ee probe's message is sealed by. */
  sealer: MessageSealer | null;
}) {
  return {
    /**
     * Seals the probe text for each recipient as an app would (MLS, client-managed keys); null
     * where negotiation failed (the message then goes plain, and the probe reads `fallback`).
     */
    async sealProbeMessages(input: {
      recipients: ProbeRecipient[];
      text: string;
    }): Promise<(E2eePayload | null)[]> {
      const sealed = [];
      for (const r of input.recipients)
        sealed.push((await sealForRecipient(deps.sealer, r.to, input.text, 'preferred')).payload);
      return sealed;
    },

    /** The hub's answer for each recipient now, not the cache's: what the TTL tuning compares. */
    async checkProbeCapabilities(input: {
      region: string;
      recipients: ProbeRecipient[];
    }): Promise<ObservedCapability[]> {
      const { rcsHub } = deps.channels.forRegion(input.region);
      return Promise.all(
        input.recipients.map((r) =>
          rcsHub.getCapabilities(r.to, randomUUID()).then(
            (answer) => capabilityClass(answer && capabilityFromFeatures(answer)),
            // A failed lookup is a data point too (the probe's message shows what it costs).
            (): ObservedCapability => 'error',
          ),
        ),
      );
    },

    /** Stores the run; counts only the results that were new, so a retried write counts nothing twice. */
    async recordProbeResults(run: ProbeRun): Promise<void> {
      const fresh = await deps.probes.record(run);
      deps.meter.recorded(run.region, fresh);
    },
  };
}
