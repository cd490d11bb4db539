// What the activities need from the adapters, as narrow interfaces: each activity group takes
// only the ones it uses, so a test can hand it a real peer or a small stand-in.

import type { RecipientCapability } from '../domain/message';
import type { RcsPreference, RolloutConfig } from '../domain/rollout';
import type { RcsHub } from '../channels/rcs/types';
import type { SmsGateway } from '../channels/sms/types';
import type { AuditContext, AuditEntry } from '../domain/audit';
import type { SmsSubmissionRecord } from '../store/sms-submissions';
import type { FallbackSample, GuardState } from '../store/rollout/guard-store';

export interface CapabilityProbe {
  probe(
    msisdn: string,
    requestId: string,
  ): Promise<Omit<RecipientCapability, 'source'> & { source: 'hub' | 'cache' }>;
}

export interface AuditSink {
  /** Resolves to the rows that were new (a retried write's rows were there already). */
  append(
    context: AuditContext,
    entries: AuditEntry[],
  ): Promise<ReadonlyArray<{ messageId: string; seq: number }>>;
  /** Whether the trail of `messageId` has a row at `seq`. */
  hasEntry(messageId: string, seq: number): Promise<boolean>;
}

/**
 * Counts what audit rows say (metrics/delivery-meter.ts): given only the rows an append actually
 * inserted, so a retried activity or a replayed workflow task never counts a message twice.
 */
export interface DeliveryMeter {
  audited(context: AuditContext, entries: AuditEntry[]): void;
}

/** Routing control plane availability (prepareDelivery). */
export interface RoutingMeter {
  decided(region: string, result: 'ok' | 'error'): void;
}

export interface SmsSubmissionIndex {
  record(records: SmsSubmissionRecord[]): Promise<void>;
  forMessage(messageId: string): Promise<SmsSubmissionRecord[]>;
}

/** Which workflow waits for each RBM message id's events. */
export interface RcsSendIndex {
  record(rbmMessageId: string, messageId: string, workflowId: string): Promise<void>;
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

export interface ShortlinkIssuer {
  create(input: {
    messageId: string;
    recipient: string;
    media: Buffer;
    contentType: string;
    fileName: string;
  }): Promise<{ url: string }>;
}

/** Uploaded files (the claim check): a message's media is loaded from here by its id. */
export interface MediaObjectSource {
  load(
    mediaId: string,
    tenant: string,
  ): Promise<{ data: Buffer; contentType: string; fileName: string; bytes: number }>;
}

/** Escrowed tenants: every encrypted message is archived before it is sent (e2ee/escrow-archive.ts). */
export interface EscrowArchive {
  archive(input: {
    tenant: string;
    messageId: string;
    ciphertext: Uint8Array;
    welcome: Uint8Array | null;
  }): Promise<string | null>;
}
