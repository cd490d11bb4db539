import type { RecipientCapability } from '../domain/message';
import type { RcsHub } from '../channels/rcs/types';
import type { SmsGateway } from '../channels/sms/types';
import type { AuditContext, AuditEntry } from '../store/audit-log';
import type { SmsSubmissionRecord } from '../store/sms-submissions';

/** Durations and caps the workflow obeys; read from config by the worker. */
export interface DeliveryPolicy {
  rcsMaxAttempts: number;
  rcsRetryBackoffMs: number;
  rcsReceiptTimeoutMs: number;
  smsReceiptTimeoutMs: number;
}

export interface CapabilityProbe {
  probe(
    msisdn: string,
    requestId: string,
  ): Promise<Omit<RecipientCapability, 'source'> & { source: 'hub' | 'cache' }>;
}

export interface AuditSink {
  append(context: AuditContext, entries: AuditEntry[]): Promise<void>;
}

export interface SmsSubmissionIndex {
  record(records: SmsSubmissionRecord[]): Promise<void>;
  forMessage(messageId: string): Promise<SmsSubmissionRecord[]>;
}

/** Everything the activities touch, injected so each can be swapped for a real peer in tests. */
export interface ActivityDeps {
  policy: DeliveryPolicy;
  capabilities: CapabilityProbe;
  rcsHub: RcsHub;
  smsGateway: SmsGateway;
  smsSubmissions: SmsSubmissionIndex;
  audit: AuditSink;
}
