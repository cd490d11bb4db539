import { ActivityFailure, ApplicationFailure, condition, sleep } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { DeliveryPolicy, SendAuditInput, SendAuditResult } from '../activities';
import type { ChannelFailureDetails } from '../activities/failures';
import type { AttemptRecord, DeliveryRequest, E2eePayload, FallbackReason } from '../domain/message';
import type { AuditEntry } from '../store/audit-log';
import { recordAudit, revokeRcs, sendRcs, sendSms } from './activities-proxy';
import type { DeliveryStep, RcsEventSignal, SmsReceiptSignal } from './definitions';
import { DeliveryStateKey } from './definitions';
import { SearchAttributes } from './search-attributes';

export type StepResult =
  | { delivered: true; deliveredAt: number; latencyMs: number; e2ee?: boolean }
  | { delivered: false; reason: FallbackReason | null; errorCode: string | null; revoked?: boolean };

const FINAL_SMS_STATES = new Set(['DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'REJECTD', 'UNKNOWN']);

/**
 * The per-channel steps of a delivery and the state their signals feed. One runner per
 * workflow; the parent and the pilot's children each own one. Audit rows of one message are
 * numbered from `auditSeqBase`, so parent and children never collide.
 */
export class ChannelRunner {
  readonly attempts: AttemptRecord[] = [];
  step: DeliveryStep = 'received';
  /** Events per RBM message id: a message may have an encrypted and a plain RCS send. */
  private readonly rcsEvents = new Map<string, { delivered: boolean; e2eeFailure: string | null }>();
  private standDown = false;
  private readonly smsReceipts = new Map<string, SmsReceiptSignal>();
  private seq: number;
  private readonly pendingAudit: AuditEntry[] = [];
  private readonly searchAttributes: SearchAttributes;
  /** The text actually sent: the request's, plus a secure link when it carries media. */
  text: string;

  constructor(
    private readonly request: DeliveryRequest,
    private readonly workflowId: string,
    private readonly policy: DeliveryPolicy,
    auditSeqBase: number,
  ) {
    this.seq = auditSeqBase;
    this.text = request.text;
    this.searchAttributes = new SearchAttributes(!!policy.coalesceSearchAttributes);
  }

  onRcsEvent(event: RcsEventSignal): void {
    const key = event.rbmMessageId ?? '';
    const seen = this.rcsEvents.get(key) ?? { delivered: false, e2eeFailure: null };
    if (event.eventType === 'DELIVERED' || event.eventType === 'READ') {
      seen.delivered = true;
    }
    if (event.eventType === 'E2EE_DECRYPT_FAILED') seen.e2eeFailure = event.errorCode ?? 'UNKNOWN';
    this.rcsEvents.set(key, seen);
  }

  private rcsEventsFor(rbmMessageId: string) {
    // Events without an id (older routers) count for whichever send is waiting.
    const own = this.rcsEvents.get(rbmMessageId);
    const anonymous = this.rcsEvents.get('');
    return {
      delivered: !!own?.delivered || !!anonymous?.delivered,
      e2eeFailure: own?.e2eeFailure ?? anonymous?.e2eeFailure ?? null,
    };
  }

  onSmsReceipt(receipt: SmsReceiptSignal): void {
    // Duplicates overwrite with the same value; a final state is never replaced by an interim one.
    const known = this.smsReceipts.get(receipt.smscMessageId);
    if (!known || !FINAL_SMS_STATES.has(known.state)) this.smsReceipts.set(receipt.smscMessageId, receipt);
  }

  /** Pilot: the other channel won; an RCS copy still in flight is revoked. */
  onStandDown(): void {
    this.standDown = true;
  }

  enter(next: DeliveryStep): void {
    this.step = next;
    this.setSearchAttribute({ key: DeliveryStateKey, value: next });
  }

  /** Upserted now, or with policy.coalesceSearchAttributes at the next publishSearchAttributes(). */
  setSearchAttribute(pair: SearchAttributeUpdatePair): void {
    this.searchAttributes.set(pair);
  }

  /** Before each activity, timer, child or wait (flushAudit() does it too). */
  publishSearchAttributes(): void {
    this.searchAttributes.publish();
  }

  /**
   * Records a transition. With `auditBatching` the rows wait in workflow state (durable: a
   * replay rebuilds them) and go out in one write before the next wait and at the end, instead
   * of one local activity each.
   */
  async audit(entry: Omit<AuditEntry, 'messageId' | 'seq' | 'occurredAt'>): Promise<void> {
    this.pendingAudit.push({
      ...entry,
      messageId: this.request.messageId,
      seq: this.seq++,
      occurredAt: new Date().toISOString(),
    });
    if (!this.policy.auditBatching) await this.flushAudit();
  }

  async flushAudit(): Promise<void> {
    this.publishSearchAttributes();
    if (this.pendingAudit.length === 0) return;
    const r = this.request;
    const entries = this.pendingAudit.splice(0);
    await recordAudit({
      context: { tenant: r.tenant, recipient: r.to, region: r.region, flow: r.flow },
      entries,
    });
  }

  /**
   * policy.auditInSends: the rows still due and this send's 'accepted' row (its seq is the next
   * one: nothing else is audited while a send runs), for the send activity to record.
   */
  private sendAudit(channel: 'rcs' | 'sms', detail: AuditEntry['detail']): SendAuditInput | undefined {
    if (!this.policy.auditInSends) return undefined;
    const r = this.request;
    return {
      context: { tenant: r.tenant, recipient: r.to, region: r.region, flow: r.flow },
      before: [...this.pendingAudit],
      accepted: {
        messageId: r.messageId,
        seq: this.seq,
        event: 'accepted',
        channel,
        result: 'accepted',
        errorCode: null,
        detail,
      },
    };
  }

  /** After a send: true when it recorded the rows it was given, which are then no longer due. */
  private recordedBySend(audit: SendAuditInput | undefined, result: SendAuditResult | undefined): boolean {
    if (!audit || !result?.recorded) return false;
    this.pendingAudit.splice(0, audit.before.length);
    this.seq++;
    return true;
  }

  private attempt(record: Omit<AttemptRecord, 'at'>): void {
    this.attempts.push({ ...record, at: new Date().toISOString() });
  }

  async tryRcs(options: { supplementary?: boolean; e2ee?: E2eePayload } = {}): Promise<StepResult> {
    const e2ee = options.e2ee;
    let rbmMessageId = '';
    const supplementary = options.supplementary ? { supplementary: true } : {};
    const detail: Record<string, boolean> = options.supplementary ? { supplementary: true } : {};
    const sentAt = Date.now();
    let acceptedRecorded = false;
    for (let n = 1; ; n++) {
      this.enter('sending-rcs');
      try {
        this.publishSearchAttributes();
        const audit = this.sendAudit('rcs', detail);
        const sent: { rbmMessageId?: string; audit?: SendAuditResult } | undefined = await sendRcs({
          messageId: this.request.messageId,
          to: this.request.to,
          region: this.request.region,
          workflowId: this.workflowId,
          text: this.text,
          ...(e2ee ? { tenant: this.request.tenant } : {}),
          ...(e2ee
            ? { e2ee: { ciphertext: e2ee.ciphertext, ...(e2ee.welcome ? { welcome: e2ee.welcome } : {}) } }
            : {}),
          ...(audit ? { audit } : {}),
        });
        acceptedRecorded = this.recordedBySend(audit, sent?.audit);
        // Histories recorded before sendRcs returned its id replay with undefined here.
        rbmMessageId = sent?.rbmMessageId ?? '';
        break;
      } catch (err) {
        const failure = channelFailure(err);
        this.attempt({ channel: 'rcs', result: 'failed', errorCode: failure.code, ...supplementary });
        await this.audit({
          event: 'attempt',
          channel: 'rcs',
          result: 'failed',
          errorCode: failure.code,
          detail: { n, ...detail },
        });
        if (failure.type !== 'RcsTransientError') {
          return { delivered: false, reason: 'rcs_permanent_error', errorCode: failure.code };
        }
        if (n >= this.policy.rcsMaxAttempts) {
          return { delivered: false, reason: 'rcs_retries_exhausted', errorCode: failure.code };
        }
        await this.flushAudit();
        await sleep(failure.retryAfterMs ?? this.policy.rcsRetryBackoffMs * 2 ** (n - 1));
      }
    }
    this.enter('awaiting-rcs-receipt');
    if (!acceptedRecorded)
      await this.audit({ event: 'accepted', channel: 'rcs', result: 'accepted', errorCode: null, detail });
    const events = () => this.rcsEventsFor(rbmMessageId);
    await this.flushAudit();
    await condition(
      () => events().delivered || events().e2eeFailure !== null || this.standDown,
      this.policy.rcsReceiptTimeoutMs,
    );
    const e2eeFailure = events().e2eeFailure;
    if (e2eeFailure && !events().delivered) {
      // The phone could not decrypt: nothing readable reached it, so there is nothing to revoke.
      const code = `E2EE_${e2eeFailure}`;
      this.attempt({ channel: 'rcs', result: 'failed', errorCode: code, ...supplementary });
      await this.audit({
        event: 'e2ee_failure',
        channel: 'rcs',
        result: 'failed',
        errorCode: code,
        detail: { newGroup: !!e2ee?.newGroup },
      });
      return { delivered: false, reason: 'e2ee_failed', errorCode: code };
    }
    if (!events().delivered) {
      this.enter('revoking-rcs');
      this.publishSearchAttributes();
      const revoked = await revokeRcs({
        messageId: this.request.messageId,
        to: this.request.to,
        region: this.request.region,
        e2ee: !!e2ee,
      });
      const code = this.standDown ? 'STOOD_DOWN' : 'RECEIPT_TIMEOUT';
      if (revoked === 'revoked') {
        this.attempt({ channel: 'rcs', result: 'revoked', errorCode: code, ...supplementary });
        await this.audit({ event: 'revoked', channel: 'rcs', result: 'revoked', errorCode: code, detail });
        return { delivered: false, reason: 'rcs_receipt_timeout', errorCode: code, revoked: true };
      }
      // The hub answered "too late": the phone has the message, so RCS delivered it.
    }
    const deliveredAt = Date.now();
    this.attempt({
      channel: 'rcs',
      result: 'delivered',
      errorCode: null,
      ...supplementary,
      ...(e2ee ? { e2ee: true } : {}),
    });
    await this.audit({
      event: 'delivered',
      channel: 'rcs',
      result: 'delivered',
      errorCode: null,
      detail: { ...detail, ...(e2ee ? { e2ee: true } : {}) },
    });
    return { delivered: true, deliveredAt, latencyMs: deliveredAt - sentAt, e2ee: !!e2ee };
  }

  async trySms(): Promise<StepResult> {
    this.enter('sending-sms');
    const sentAt = Date.now();
    let smscMessageIds: string[];
    let acceptedRecorded = false;
    try {
      this.publishSearchAttributes();
      const audit = this.sendAudit('sms', {});
      let recorded: SendAuditResult | undefined;
      ({ smscMessageIds, audit: recorded } = await sendSms({
        messageId: this.request.messageId,
        workflowId: this.workflowId,
        to: this.request.to,
        region: this.request.region,
        text: this.text,
        ...(audit ? { audit } : {}),
      }));
      acceptedRecorded = this.recordedBySend(audit, recorded);
    } catch (err) {
      const failure = channelFailure(err);
      this.attempt({ channel: 'sms', result: 'failed', errorCode: failure.code });
      await this.audit({
        event: 'attempt',
        channel: 'sms',
        result: 'failed',
        errorCode: failure.code,
        detail: {},
      });
      return { delivered: false, reason: null, errorCode: failure.code };
    }
    this.enter('awaiting-sms-receipt');
    if (!acceptedRecorded)
      await this.audit({
        event: 'accepted',
        channel: 'sms',
        result: 'accepted',
        errorCode: null,
        detail: { parts: smscMessageIds.length },
      });
    const finalFor = (id: string) => {
      const r = this.smsReceipts.get(id);
      return r && FINAL_SMS_STATES.has(r.state) ? r : undefined;
    };
    await this.flushAudit();
    const allFinal = await condition(() => smscMessageIds.every(finalFor), this.policy.smsReceiptTimeoutMs);
    if (!allFinal) {
      this.attempt({ channel: 'sms', result: 'timeout', errorCode: 'RECEIPT_TIMEOUT' });
      await this.audit({
        event: 'timeout',
        channel: 'sms',
        result: 'timeout',
        errorCode: 'RECEIPT_TIMEOUT',
        detail: {},
      });
      return { delivered: false, reason: null, errorCode: 'RECEIPT_TIMEOUT' };
    }
    const failedPart = smscMessageIds.map(finalFor).find((r) => r?.state !== 'DELIVRD');
    if (failedPart) {
      const code = `${failedPart.state}${failedPart.errorCode ? `:${failedPart.errorCode}` : ''}`;
      this.attempt({ channel: 'sms', result: 'failed', errorCode: code });
      await this.audit({ event: 'receipt', channel: 'sms', result: 'failed', errorCode: code, detail: {} });
      return { delivered: false, reason: null, errorCode: code };
    }
    const deliveredAt = Date.now();
    this.attempt({ channel: 'sms', result: 'delivered', errorCode: null });
    await this.audit({
      event: 'delivered',
      channel: 'sms',
      result: 'delivered',
      errorCode: null,
      detail: {},
    });
    return { delivered: true, deliveredAt, latencyMs: deliveredAt - sentAt };
  }
}

export function channelFailure(err: unknown): { type: string | null } & ChannelFailureDetails {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as ChannelFailureDetails | undefined;
    return {
      type: cause.type ?? null,
      code: details?.code ?? cause.type ?? 'UNKNOWN',
      retryAfterMs: details?.retryAfterMs ?? null,
    };
  }
  return { type: null, code: 'UNKNOWN', retryAfterMs: null };
}

export type { RcsEventSignal };
