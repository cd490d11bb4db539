// The workflow tier's stand-in for the carriers and the database: activities that behave per the
// sandbox number plan, throw the failures the real activities throw, and deliver receipts the way
// the receipt router does (a signal to the workflow that made the send, shortly after it returns).
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type {
  AuditInput,
  DeliveryLookups,
  GuardActivities,
  GuardDecision,
  MessageActivities,
  ProbeActivities,
  RcsRevokeInput,
  RcsSendInput,
  SendAuditInput,
  SmsSendInput,
} from '../../activities';
import { FailureType } from '../../domain/failures';
import type { ChannelFailureDetails, FailureTypeName } from '../../domain/failures';
import type { DeliveryPolicy, MediaRef } from '../../domain/message';
import type { RoutingContext } from '../../domain/rollout';
import { uuidV5 } from '../../domain/uuid-v5';
import { behaviourFor } from '../../sandbox/number-plan';
import type { AuditEntry } from '../../domain/audit';
import { capabilityClass } from '../../domain/probes';
import type { ProbeRun } from '../../domain/probes';
import type { FallbackSample } from '../../store/rollout/guard-store';
import { rcsEventSignal, smsReceiptSignal } from '../../workflows/definitions';

/** Short on purpose: the tier waits on real timers. */
export const STUB_POLICY: DeliveryPolicy = {
  rcsMaxAttempts: 3,
  rcsRetryBackoffMs: 50,
  rcsReceiptTimeoutMs: 300,
  smsReceiptTimeoutMs: 2000,
};

/** What the stub's probe sealer answers with (the stub carrier never decrypts). */
const STUB_PROBE_PAYLOAD = { ciphertext: '', negotiationMs: 7, newGroup: true };

/** The regions with carriers; any other region's probe and sends fail as RegionUnservedError. */
export const SERVED_REGIONS = ['us', 'eu'];
export const RECEIPT_DELAY_MS = 20;
const SMS_PART_CHARS = 153;
const SMS_SINGLE_CHARS = 160;

/** What a test changes for one message beyond its number's row of the plan. */
export interface MessageScript {
  /** Replaces parts of STUB_POLICY for this message (a long receipt wait, to query it meanwhile). */
  policy?: Partial<DeliveryPolicy>;
  routing?: Partial<Omit<RoutingContext, 'config'>> & { config?: Partial<RoutingContext['config']> };
  /** Every RCS send answers 503, with this Retry-After (null: none). */
  rcsAlwaysTransient?: { retryAfterMs: number | null };
  /** The phone answers the encrypted send with E2EE_DECRYPT_FAILED and this MLS code. */
  e2eeDecryptFailure?: string;
  /** The SMSC's final state per part, in part order (default: the number's row). */
  smsPartStates?: string[];
  /** The SMS receipts come this much later than RECEIPT_DELAY_MS (a pilot's slower channel). */
  smsReceiptDelayMs?: number;
  /** The RCS receipt waits until the test calls release(messageId). */
  holdRcsReceipt?: boolean;
}

export type StubCall =
  | { name: 'prepareDelivery'; region: string }
  | { name: 'sendRcs'; region: string; text: string; e2ee: boolean; workflowId: string; at: number }
  | { name: 'revokeRcs'; region: string; e2ee: boolean }
  | { name: 'sendSms'; region: string; text: string; workflowId: string }
  | { name: 'archiveForEscrow' }
  | { name: 'createShortlink'; region: string; media: MediaRef }
  | { name: 'recordAudit'; region: string };

const rbmMessageId = (messageId: string, e2ee: boolean) => (e2ee ? uuidV5(`${messageId}:e2ee`) : messageId);

function failure(
  type: FailureTypeName,
  nonRetryable: boolean,
  code: string,
  retryAfterMs: number | null = null,
) {
  const details: ChannelFailureDetails = { code, retryAfterMs };
  return ApplicationFailure.create({
    type,
    message: `stub carrier: ${type} (${code})`,
    nonRetryable,
    details: [details],
  });
}

/** createShortlink answers MediaNotFoundError for this upload id. */
export const UNKNOWN_MEDIA_ID = 'unknown-media-id-000000';

export class StubCarrier {
  private readonly scripts = new Map<string, MessageScript>();
  private readonly callLog = new Map<string, StubCall[]>();
  private readonly auditLog = new Map<string, AuditEntry[]>();
  private readonly rcsSends = new Map<string, { workflowId: string; delivered: boolean; revoked: boolean }>();
  private readonly transientsSeen = new Map<string, number>();
  private readonly held = new Map<string, () => void>();
  private smscSeq = 0;
  /** The guard's measurements per region, one per check; the last one repeats. */
  readonly guardSamples = new Map<string, FallbackSample[]>();
  readonly guardDecisions: GuardDecision[] = [];
  /** What recordProbeResults was handed, in order. */
  readonly probeRuns: ProbeRun[] = [];
  /** Signals that could not reach their workflow (the receipt router would log them). */
  readonly signalErrors: unknown[] = [];

  constructor(private readonly client: Client) {}

  script(messageId: string, script: MessageScript): void {
    this.scripts.set(messageId, script);
  }

  calls(messageId: string): StubCall[] {
    return this.callLog.get(messageId) ?? [];
  }

  /** The message's audit rows in the order they were written. */
  audit(messageId: string): AuditEntry[] {
    return this.auditLog.get(messageId) ?? [];
  }

  /** Delivers an RCS receipt held by `holdRcsReceipt`. */
  release(messageId: string): void {
    const deliver = this.held.get(messageId);
    if (!deliver) throw new Error('no RCS receipt is held for this message');
    this.held.delete(messageId);
    deliver();
  }

  isHolding(messageId: string): boolean {
    return this.held.has(messageId);
  }

  activities(): MessageActivities & GuardActivities & ProbeActivities {
    return {
      prepareDelivery: ({ request }) => Promise.resolve(this.prepare(request)),
      sendRcs: (input) => Promise.resolve(this.sendRcs(input)),
      revokeRcs: (input) => Promise.resolve(this.revokeRcs(input)),
      sendSms: (input) => Promise.resolve(this.sendSms(input)),
      recordAudit: (input) => Promise.resolve(this.recordAudit(input)),
      archiveForEscrow: (input) => {
        this.log(input.messageId, { name: 'archiveForEscrow' });
        return Promise.resolve();
      },
      createShortlink: (input) => {
        this.log(input.messageId, { name: 'createShortlink', region: input.region, media: input.media });
        // An upload the store does not hold, as the real activity reports it.
        if (input.media.mediaId === UNKNOWN_MEDIA_ID) {
          return Promise.reject(failure(FailureType.MediaNotFound, true, 'MEDIA_NOT_FOUND'));
        }
        return Promise.resolve({ url: `https://links.test/s/${input.messageId.slice(0, 8)}` });
      },
      measureFallback: (input) => {
        const samples = this.guardSamples.get(input.region) ?? [];
        const sample = samples.length > 1 ? samples.shift() : samples[0];
        return Promise.resolve(sample ?? { eligible: 0, fellBack: 0 });
      },
      recordGuardDecision: (decision) => {
        this.guardDecisions.push(decision);
        return Promise.resolve({ rolledBackTo: decision.rollback ? 7 : null });
      },
      // The hub's answer per the number plan, as the real activity classes it.
      checkProbeCapabilities: (input) =>
        Promise.resolve(
          input.recipients.map((r) => {
            const row = behaviourFor(r.to);
            return capabilityClass(row.rcs ? { rcs: true, e2ee: row.e2ee } : null);
          }),
        ),
      // As an app's sealer: the number plan's E2EE numbers have KeyPackages, the others none.
      sealProbeMessages: (input) =>
        Promise.resolve(
          input.recipients.map((r) =>
            behaviourFor(r.to).e2ee
              ? { ...STUB_PROBE_PAYLOAD, ciphertext: Buffer.from(r.to).toString('base64') }
              : null,
          ),
        ),
      recordProbeResults: (run) => {
        this.probeRuns.push(run);
        return Promise.resolve();
      },
    };
  }

  private log(messageId: string, call: StubCall): void {
    this.callLog.set(messageId, [...this.calls(messageId), call]);
  }

  private append(messageId: string, entries: AuditEntry[]): void {
    const rows = this.audit(messageId);
    // As the real log: (messageId, seq) makes a retried write a no-op.
    const fresh = entries.filter((e) => !rows.some((r) => r.seq === e.seq));
    this.auditLog.set(messageId, [...rows, ...fresh]);
  }

  private recordSent(audit: SendAuditInput, detail: AuditEntry['detail']) {
    const accepted: AuditEntry = {
      ...audit.accepted,
      detail: { ...audit.accepted.detail, ...detail },
      occurredAt: new Date().toISOString(),
    };
    this.append(audit.accepted.messageId, [...audit.before, accepted]);
    return { recorded: true };
  }

  private refuseUnserved(region: string): void {
    if (!SERVED_REGIONS.includes(region)) throw failure(FailureType.RegionUnserved, true, 'REGION_UNSERVED');
  }

  private prepare(input: { messageId: string; to: string; region: string }): DeliveryLookups {
    this.log(input.messageId, { name: 'prepareDelivery', region: input.region });
    const script = this.scripts.get(input.messageId) ?? {};
    const { config, ...routing } = script.routing ?? {};
    const policy = { ...STUB_POLICY, ...script.policy };
    const context: RoutingContext = {
      config: {
        region: input.region,
        version: 0,
        phase: 'rcs-default',
        pilotPercent: 0,
        killSwitch: false,
        flowOverrides: {},
        good: false,
        note: null,
        createdAt: null,
        ...config,
      },
      cohortBucket: 5000,
      preference: null,
      guardThrottled: false,
      ...routing,
    };
    if (!SERVED_REGIONS.includes(input.region)) {
      return {
        policy,
        capability: null,
        probeFailure: { type: FailureType.RegionUnserved, code: 'REGION_UNSERVED' },
        routing: context,
      };
    }
    const row = behaviourFor(input.to);
    const capability = row.rcs
      ? { rcs: true, e2ee: row.e2ee, media: row.media, source: 'hub' as const }
      : { rcs: false, e2ee: false, media: false, source: 'hub' as const };
    return { policy, capability, probeFailure: null, routing: context };
  }

  private sendRcs(input: RcsSendInput) {
    const e2ee = !!input.e2ee;
    this.log(input.messageId, {
      name: 'sendRcs',
      region: input.region,
      text: input.text,
      e2ee,
      workflowId: input.workflowId,
      at: Date.now(),
    });
    this.refuseUnserved(input.region);
    const row = behaviourFor(input.to);
    const script = this.scripts.get(input.messageId) ?? {};
    const id = rbmMessageId(input.messageId, e2ee);
    if (row.rcsRejects) throw failure(FailureType.RcsPermanent, true, '400');
    if (script.rcsAlwaysTransient) {
      throw failure(FailureType.RcsTransient, false, '503', script.rcsAlwaysTransient.retryAfterMs);
    }
    const seen = this.transientsSeen.get(id) ?? 0;
    if (seen < row.rcsTransientFailures) {
      this.transientsSeen.set(id, seen + 1);
      throw failure(FailureType.RcsTransient, false, '503');
    }
    const send = { workflowId: input.workflowId, delivered: false, revoked: false };
    this.rcsSends.set(id, send);
    const event = (eventType: string, errorCode: string | null = null) =>
      this.client.workflow
        .getHandle(send.workflowId)
        .signal(rcsEventSignal, { rbmMessageId: id, eventType, eventId: `${id}:${eventType}`, errorCode });
    if (e2ee && script.e2eeDecryptFailure) {
      const code = script.e2eeDecryptFailure;
      this.later(RECEIPT_DELAY_MS, () => event('E2EE_DECRYPT_FAILED', code));
    } else if (!row.rcsOffline) {
      const deliver = () => {
        if (send.revoked) return;
        send.delivered = true;
        this.signalLater(event('DELIVERED'));
      };
      if (script.holdRcsReceipt) this.held.set(input.messageId, deliver);
      else setTimeout(deliver, RECEIPT_DELAY_MS);
    }
    return { rbmMessageId: id, audit: this.recordSent(input.audit, {}) };
  }

  private revokeRcs(input: RcsRevokeInput) {
    this.log(input.messageId, { name: 'revokeRcs', region: input.region, e2ee: input.e2ee });
    this.refuseUnserved(input.region);
    const send = this.rcsSends.get(rbmMessageId(input.messageId, input.e2ee));
    if (!send) throw failure(FailureType.RcsPermanent, true, '404');
    if (send.delivered) return 'already-delivered' as const;
    send.revoked = true;
    return 'revoked' as const;
  }

  private sendSms(input: SmsSendInput) {
    this.log(input.messageId, {
      name: 'sendSms',
      region: input.region,
      text: input.text,
      workflowId: input.workflowId,
    });
    this.refuseUnserved(input.region);
    const row = behaviourFor(input.to);
    const script = this.scripts.get(input.messageId) ?? {};
    const parts = input.text.length <= SMS_SINGLE_CHARS ? 1 : Math.ceil(input.text.length / SMS_PART_CHARS);
    const smscMessageIds = Array.from({ length: parts }, () => `smsc-${++this.smscSeq}`);
    const handle = this.client.workflow.getHandle(input.workflowId);
    this.later(RECEIPT_DELAY_MS + (script.smsReceiptDelayMs ?? 0), async () => {
      for (const [i, smscMessageId] of smscMessageIds.entries()) {
        const state = script.smsPartStates?.[i] ?? row.smsFinalState;
        // As the sandbox SMSC writes them: err:000 for DELIVRD, err:001 for UNDELIV.
        const errorCode = state === 'DELIVRD' ? '000' : '001';
        await handle.signal(smsReceiptSignal, { smscMessageId, state, errorCode });
      }
    });
    return { smscMessageIds, audit: this.recordSent(input.audit, { parts }) };
  }

  private recordAudit(input: AuditInput): void {
    const messageId = input.entries[0]?.messageId;
    if (!messageId) return;
    this.log(messageId, { name: 'recordAudit', region: input.context.region });
    this.append(messageId, input.entries);
  }

  private later(ms: number, work: () => Promise<unknown>): void {
    setTimeout(() => this.signalLater(work()), ms);
  }

  private signalLater(signalled: Promise<unknown>): void {
    signalled.catch((err: unknown) => {
      this.signalErrors.push(err);
    });
  }
}
