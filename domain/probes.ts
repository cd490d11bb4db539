// Synthetic probes' vocabulary, shared by the probe workflow, its activities, the probe store and
// the metrics. Types and pure functions only, so workflow code can import it.
import type { ChannelName, DeliveryOutcome } from './message';

/** What a synthetic recipient stands for: one per carrier and capability in each region. */
export const PROBE_CAPABILITIES = ['rcs-e2ee', 'rcs', 'sms'] as const;
export type ProbeCapability = (typeof PROBE_CAPABILITIES)[number];

/**
 * ok: delivered over the channel the recipient's capability calls for; fallback: delivered, but
 * over another channel (or met RCS trouble first); failed: not delivered; timeout: no outcome
 * within the probe's deadline.
 */
export const PROBE_RESULTS = ['ok', 'fallback', 'failed', 'timeout'] as const;
export type ProbeResult = (typeof PROBE_RESULTS)[number];

export interface ProbeRecipient {
  /** A carrier's name, a metric label: lowercase identifier, never a number. */
  carrier: string;
  capability: ProbeCapability;
  /** E.164; only the workflow's (sealed) input and the send see it, never a label or a row. */
  to: string;
}

/** One region's probe, the argument its Schedule starts the probe workflow with. */
export interface ProbeSettings {
  region: string;
  recipients: ProbeRecipient[];
  /** A probe message without an outcome by then counts as `timeout` (it still finishes on its own). */
  timeoutMs: number;
}

/** The hub's answer for the recipient right now, bypassing the cache (the TTL tuning's data). */
export type ObservedCapability = ProbeCapability | 'error';

export interface ProbeRecipientResult {
  carrier: string;
  capability: ProbeCapability;
  result: ProbeResult;
  /** The channel it was delivered over, if it was. */
  channel: ChannelName | null;
  /** Workflow start to the final receipt, for delivered probes. */
  latencyMs: number | null;
  fallbackReason: string | null;
  observed: ObservedCapability;
  /** Delivered end-to-end encrypted (the rcs-e2ee probe's message is MLS-sealed by the worker). */
  e2ee: boolean;
  /** The worker's MLS negotiation and encryption for the message; null when not sealed. */
  e2eeNegotiationMs: number | null;
}

export interface ProbeRun {
  /** The probe workflow's run id: the store's key, so a retried write records (and counts) nothing twice. */
  probeRunId: string;
  region: string;
  /** The probe's start (workflow time). */
  at: string;
  results: ProbeRecipientResult[];
}

const EXPECTED_CHANNEL: Record<ProbeCapability, ChannelName> = { 'rcs-e2ee': 'rcs', rcs: 'rcs', sms: 'sms' };

/** How a probe message's outcome reads for the capability its recipient stands for. */
export function classifyProbe(capability: ProbeCapability, outcome: DeliveryOutcome | null): ProbeResult {
  if (!outcome) return 'timeout';
  if (outcome.status !== 'delivered') return 'failed';
  if (outcome.channel !== EXPECTED_CHANNEL[capability]) return 'fallback';
  if (capability === 'rcs-e2ee' && !outcome.e2ee) return 'fallback';
  // An SMS-only recipient's reason is "not_rcs_capable"; an RCS one's must be none (no RCS trouble).
  return capability === 'sms' || outcome.fallbackReason === null ? 'ok' : 'fallback';
}

/** The capability class of a hub answer (null: 404, not an RCS user). */
export function capabilityClass(answer: { rcs: boolean; e2ee: boolean } | null): ProbeCapability {
  if (!answer?.rcs) return 'sms';
  return answer.e2ee ? 'rcs-e2ee' : 'rcs';
}
