// The audit trail's vocabulary, shared by the workflow that writes it, the activities that carry
// it and the store that chains it (store/audit-log.ts). Types only.

export type AuditDetailValue = string | number | boolean | null;

/** One transition of one message. Metadata only: never text, media or key material. */
export interface AuditEntry {
  messageId: string;
  /** Position in the message's own trail; (messageId, seq) makes a retried write a no-op. */
  seq: number;
  event: string;
  channel: string | null;
  result: string | null;
  errorCode: string | null;
  detail: Record<string, AuditDetailValue>;
  occurredAt: string;
  /** The rollout config version that made a routing decision; else taken from detail.configVersion. */
  configVersion?: string | number | null;
}

export interface AuditContext {
  tenant: string;
  recipient: string;
  region: string;
  flow: string;
  /** The request's submittedAt: where latency metrics start. Not stored in the trail. */
  submittedAt?: string;
  /** The request's status callback URL (store/status-events.ts). Not stored in the trail. */
  statusCallbackUrl?: string;
  /** A synthetic probe's message: kept out of business metrics (the rows carry detail.synthetic). */
  synthetic?: true;
}

/** A context whose recipient is already hashed (exports record the hash of what they looked up). */
export interface HashedAuditContext {
  tenant: string;
  recipientHash: string;
  region: string;
  flow: string;
}
