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
}

export type FallbackReason =
  | 'not_rcs_capable'
  | 'capability_unavailable'
  | 'rcs_permanent_error'
  | 'rcs_retries_exhausted'
  | 'rcs_receipt_timeout'
  | 'policy_sms_only'
  | 'e2ee_unavailable';

export interface DeliveryTimings {
  /** Start of the workflow to the delivery receipt (or to the final failure). */
  totalMs: number;
  probeMs: number;
  /** Per channel, first send to its receipt. */
  rcsMs: number | null;
  smsMs: number | null;
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
}

export function workflowIdFor(messageId: string): string {
  return `deliver-${messageId}`;
}
