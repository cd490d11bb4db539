import type { RecipientCapability } from '../domain/message';
import type { LawfulAccessDeps } from './lawful-access';
import type { RcsPreference, RolloutConfig } from '../domain/rollout';
import type { RcsHub } from '../channels/rcs/types';
import type { SmsGateway } from '../channels/sms/types';
import type { AuditContext, AuditEntry } from '../store/audit-log';
import type { SmsSubmissionRecord } from '../store/sms-submissions';
import type { FallbackSample, GuardState } from '../store/rollout/guard-store';

/** Durations and caps the workflow obeys; read from config by the worker. */
export interface DeliveryPolicy {
  rcsMaxAttempts: number;
  rcsRetryBackoffMs: number;
  rcsReceiptTimeoutMs: number;
  smsReceiptTimeoutMs: number;
  /** One audit write per batch of transitions instead of one per transition (absent in old histories). */
  auditBatching?: boolean;
  /** Capability probes as local activities (absent in old histories). */
  localProbe?: boolean;
  /**
   * getDeliveryPolicy also answers the probe (when local) and the routing context, in the same
   * local activity (absent in old histories: their policy marker carries no lookups).
   */
  foldLookups?: boolean;
  /** Search attribute changes merged into one upsert before each wait (absent in old histories). */
  coalesceSearchAttributes?: boolean;
  /** Send activities record the audit rows due and their 'accepted' row (absent in old histories). */
  auditInSends?: boolean;
}

export interface CapabilityProbe {
  probe(
    msisdn: string,
    requestId: string,
  ): Promise<Omit<RecipientCapability, 'source'> & { source: 'hub' | 'cache' }>;
}

export interface AuditSink {
  append(context: AuditContext, entries: AuditEntry[]): Promise<unknown>;
  /** Whether the trail of `messageId` has a row at `seq`. */
  hasEntry(messageId: string, seq: number): Promise<boolean>;
}

export interface SmsSubmissionIndex {
  record(records: SmsSubmissionRecord[]): Promise<void>;
  forMessage(messageId: string): Promise<SmsSubmissionRecord[]>;
}

export interface RolloutSource {
  current(region: string): Promise<RolloutConfig>;
  rollback(region: string, note?: string): Promise<RolloutConfig>;
}

export interface PreferenceSource {
  get(e164: string): Promise<RcsPreference | null>;
}

export interface GuardSource {
  get(region: string): Promise<GuardState | null>;
  set(state: Omit<GuardState, 'changedAt'>): Promise<void>;
  measure(region: string, windowMs: number): Promise<FallbackSample>;
}

/** One region's carriers. */
export interface ChannelSet {
  capabilities: CapabilityProbe;
  rcsHub: RcsHub;
  smsGateway: SmsGateway;
}

/** Residency: the only way to reach a carrier is through the message's own region. */
export interface RegionalChannels {
  /** Throws RegionUnservedError for a region without endpoints. */
  forRegion(region: string): ChannelSet;
}

/** Everything the activities touch, injected so each can be swapped for a real peer in tests. */
export interface ActivityDeps {
  policy: DeliveryPolicy;
  channels: RegionalChannels;
  /** Which workflow waits for each RBM message id's events. */
  rcsSends: { record(rbmMessageId: string, messageId: string, workflowId: string): Promise<void> };
  smsSubmissions: SmsSubmissionIndex;
  audit: AuditSink;
  rollout: RolloutSource;
  shortlinks: {
    create(input: {
      messageId: string;
      recipient: string;
      media: Buffer;
      contentType: string;
      fileName: string;
    }): Promise<{ url: string }>;
  };
  /** Uploaded files (the claim check): a message's media is loaded from here by its id. */
  mediaObjects: {
    load(
      mediaId: string,
      tenant: string,
    ): Promise<{ data: Buffer; contentType: string; fileName: string; bytes: number }>;
  };
  preferences: PreferenceSource;
  guard: GuardSource;
  /** Key of the hash that places a recipient in the cohort order. */
  cohortKey: string;
  /** Escrowed tenants: every encrypted message is archived before it is sent (e2ee/escrow-archive.ts). */
  escrowArchive: {
    archive(input: {
      tenant: string;
      messageId: string;
      ciphertext: Uint8Array;
      welcome: Uint8Array | null;
    }): Promise<string | null>;
  };
  lawfulAccess: LawfulAccessDeps;
}
