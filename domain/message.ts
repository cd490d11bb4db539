// The product's vocabulary, shared by client, workflows and activities. Types only, plus
// plain constants, so workflow code can import it without breaking determinism.

export const CHANNELS = ['rcs', 'sms', 'app'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export const FLOWS = ['standard', 'critical', 'pilot'] as const;
export type Flow = (typeof FLOWS)[number];

export const E2EE_POLICIES = ['required', 'preferred', 'off'] as const;
export type E2eePolicy = (typeof E2EE_POLICIES)[number];

export type DeliveryStatus = 'delivered' | 'failed' | 'pending';

/** What the workflow receives. Validated by the client before any workflow starts. */
export interface DeliveryRequest {
  messageId: string;
  to: string; // E.164
  text: string;
  flow: Flow;
  e2ee: E2eePolicy;
  tenant: string;
  /** Region derived from the number by the client; routing never sends outside it. */
  region: string;
  submittedAt: string; // ISO-8601, set by the client
  /** Critical flow only: also send an RCS copy after the authoritative SMS. */
  rcsCopy?: boolean;
  /**
   * Client-managed E2EE: MLS ciphertext made by the sender's app. With it, `text` is what may go
   * out without E2EE: the plaintext for `preferred`, the app's notice for `required`.
   */
  e2eePayload?: E2eePayload;
  /** Set by the client for `required`: `text` is a notice, never the message. */
  textIsNotice?: boolean;
  /** A file for the recipient, uploaded beforehand; it reaches them behind a secure shortlink (Recipe A). */
  media?: MediaRef;
  /**
   * Where the app wants status events (accepted, fell back, delivered, failed, read) POSTed,
   * signed with its tenant's webhook secret; without it the tenant's default webhook, if any.
   */
  statusCallbackUrl?: string;
  /** Set by the synthetic probes only: counted in probe metrics, kept out of business counts and the guard. */
  synthetic?: true;
}

/**
 * Claim check: the file itself was uploaded (`POST /v1/media`) and waits, encrypted, in the media
 * store; only this reference travels through workflow history.
 */
export interface MediaRef {
  /** The upload's id (MEDIA_ID_PATTERN): the worker loads the file with it, for the same tenant only. */
  mediaId: string;
  contentType: string;
  fileName: string;
  bytes: number;
}

export interface E2eePayload {
  /** base64 MLS PrivateMessage. */
  ciphertext: string;
  /** base64 MLS Welcome: the first message of a group only. */
  welcome?: string;
  /** Time the app spent on key negotiation and encryption for this message. */
  negotiationMs: number;
  newGroup: boolean;
}

/** Durations and caps the workflow obeys: read from config by the worker, recorded in history. */
export interface DeliveryPolicy {
  rcsMaxAttempts: number;
  rcsRetryBackoffMs: number;
  rcsReceiptTimeoutMs: number;
  smsReceiptTimeoutMs: number;
}

export interface RecipientCapability {
  rcs: boolean;
  e2ee: boolean;
  media: boolean;
  /** Where the answer came from, for the audit trail. */
  source: 'hub' | 'cache';
}

export type AttemptResult = 'delivered' | 'accepted' | 'failed' | 'timeout' | 'revoked';

export interface AttemptRecord {
  channel: ChannelName;
  result: AttemptResult;
  errorCode: string | null;
  at: string; // ISO-8601 workflow time
  /** A supplementary copy (critical flow): never the authoritative delivery. */
  supplementary?: boolean;
  /** Sent end-to-end encrypted (MLS). */
  e2ee?: boolean;
}

export type FallbackReason =
  | 'not_rcs_capable'
  | 'capability_unavailable'
  | 'rcs_permanent_error'
  | 'rcs_retries_exhausted'
  | 'rcs_receipt_timeout'
  | 'policy_sms_only'
  | 'critical_sms_first'
  | 'kill_switch'
  | 'guard_throttled'
  | 'opted_out'
  | 'not_in_cohort'
  | 'e2ee_unavailable'
  | 'e2ee_failed'
  | 'region_unserved';

export interface DeliveryTimings {
  /** Start of the workflow to the delivery receipt (or to the final failure). */
  totalMs: number;
  probeMs: number;
  /** Per channel, first send to its receipt. */
  rcsMs: number | null;
  smsMs: number | null;
  /** E2EE negotiation as the sender's app measured it (first message of a group vs later ones). */
  e2eeNegotiationMs?: number | null;
}

/** Dual delivery (pilot): which channel won and what became of the other. */
export interface PilotReport {
  winner: 'rcs' | 'sms' | null;
  rcsLatencyMs: number | null;
  smsLatencyMs: number | null;
  /** The loser: revoked in time, delivered as well (the user got two copies), or never delivered. */
  loser: 'revoked' | 'duplicate' | 'not-delivered' | null;
  duplicate: boolean;
}

export interface DeliveryOutcome {
  messageId: string;
  workflowId: string;
  status: DeliveryStatus;
  channel: ChannelName | null;
  e2ee: boolean;
  attempts: AttemptRecord[];
  fallbackReason: FallbackReason | null;
  shortlink: boolean;
  timings: DeliveryTimings;
  /** The flow that actually ran (a standard message in a pilot cohort runs as pilot). */
  flow: Flow;
  /** The rollout config version that made the routing decision (0 = built-in default). */
  configVersion: number;
  /** The channel whose delivery counts (critical: always SMS). */
  authoritative: ChannelName | null;
  pilot: PilotReport | null;
}

export function workflowIdFor(messageId: string): string {
  return `deliver-${messageId}`;
}
