import { setHandler } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { AttemptRecord, DeliveryPolicy, DeliveryRequest } from '../domain/message';
import { AuditTrail, syntheticMark } from './audit-trail';
import type { AuditRow } from './audit-trail';
import type { DeliveryStep, LiveStatus } from './definitions';
import { DeliveryStateKey, rcsEventSignal, smsReceiptSignal, statusQuery } from './definitions';
import { ReceiptBook } from './receipt-book';
import { SearchAttributePublisher } from './search-attributes';

/**
 * One workflow's share of a delivery: the message, its policy, the step it is at, the attempts
 * so far, its audit trail and what the receipts said. The parent and a pilot's children own one each.
 */
export class DeliveryRun {
  readonly attempts: AttemptRecord[] = [];
  readonly receipts = new ReceiptBook();
  readonly audit: AuditTrail;
  step: DeliveryStep = 'received';
  /** The text actually sent: the request's, plus a secure link when it carries media. */
  text: string;
  private readonly attributes = new SearchAttributePublisher();

  constructor(
    readonly request: Omit<DeliveryRequest, 'media'>,
    readonly workflowId: string,
    readonly policy: DeliveryPolicy,
    auditLane: number,
  ) {
    this.text = request.text;
    const { tenant, to: recipient, region, flow, submittedAt, statusCallbackUrl } = request;
    const callback = statusCallbackUrl ? { statusCallbackUrl } : {};
    this.audit = new AuditTrail(
      request.messageId,
      { tenant, recipient, region, flow, submittedAt, ...callback, ...syntheticMark(request) },
      auditLane,
    );
  }

  /** Receipts and status queries reach this run. */
  listen(live: () => Pick<LiveStatus, 'channel' | 'outcome'>): void {
    setHandler(rcsEventSignal, (event) => this.receipts.onRcsEvent(event));
    setHandler(smsReceiptSignal, (receipt) => this.receipts.onSmsReceipt(receipt));
    setHandler(statusQuery, (): LiveStatus => ({ step: this.step, attempts: [...this.attempts], ...live() }));
  }

  enter(next: DeliveryStep): void {
    this.step = next;
    this.setAttribute({ key: DeliveryStateKey, value: next });
  }

  setAttribute(pair: SearchAttributeUpdatePair): void {
    this.attributes.set(pair);
  }

  /** Before each activity, timer, child or wait, so the Web UI sees where the message is. */
  publish(): void {
    this.attributes.publish();
  }

  /** Before a wait and at the end: search attributes out, audit rows written. */
  async flush(): Promise<void> {
    this.publish();
    await this.audit.flush();
  }

  record(attempt: Omit<AttemptRecord, 'at'>, row: AuditRow): void {
    this.attempts.push({ ...attempt, at: new Date().toISOString() });
    this.audit.add(row);
  }

  get messageRef() {
    const { messageId, to, region } = this.request;
    return { messageId, to, region };
  }
}
