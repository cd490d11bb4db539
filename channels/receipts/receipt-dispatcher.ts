// Delivers inbox rows to their workflows. Woken by the inbox's notifications (a new receipt, a new
// mapping) and by a slow sweep; several dispatchers may share one inbox (rows are claimed).
import type { Logger } from 'pino';
import type { InboxRow, ReceiptInbox } from '../../store/receipt-inbox';
import type { ReceiptResolver, ResolvedReceipt } from './receipt-resolver';

export type SignalOutcome = 'delivered' | 'closed';

/** Where resolved receipts go; the worker implements it with Temporal signals. */
export interface ReceiptSink {
  rcsEvent(
    workflowId: string,
    event: { rbmMessageId: string; eventType: string; eventId: string; errorCode: string | null },
  ): Promise<SignalOutcome>;
  smsReceipt(
    workflowId: string,
    receipt: { smscMessageId: string; state: string; errorCode: string | null },
  ): Promise<SignalOutcome>;
}

export interface ReceiptDispatcherOptions {
  inbox: ReceiptInbox;
  resolver: ReceiptResolver;
  sink: ReceiptSink;
  logger: Logger;
  /** Safety net for a missed notification, and how often a waiting receipt is looked up again. */
  sweepMs: number;
  /** A receipt no message claims after this long is orphaned. */
  orphanAfterMs: number;
  /** Retries of an undeliverable receipt back off from 500 ms up to this. */
  retryMaxMs: number;
  /** A signal that takes longer counts as failed (it may still land: duplicates are harmless). */
  signalTimeoutMs?: number;
  batchSize?: number;
}

export interface DispatcherCounts {
  delivered: number;
  late: number;
  orphaned: number;
  retried: number;
}

class SignalTimeoutError extends Error {
  override readonly name = 'SignalTimeoutError';
}

const RETRY_BASE_MS = 500;
const MIN_WAKE_MS = 10;

export class ReceiptDispatcher {
  readonly counts: DispatcherCounts = { delivered: 0, late: 0, orphaned: 0, retried: 0 };
  private readonly signalTimeoutMs: number;
  private readonly batchSize: number;
  private running: Promise<void> | null = null;
  private again = false;
  private mappingsChanged = false;
  private sweep: NodeJS.Timeout | null = null;
  /** The next wake, when the earliest pending row is due (sooner than the sweep). */
  private retry: { timer: NodeJS.Timeout; at: number } | null = null;
  private stopped = false;

  constructor(private readonly o: ReceiptDispatcherOptions) {
    this.signalTimeoutMs = o.signalTimeoutMs ?? 10_000;
    this.batchSize = o.batchSize ?? 50;
  }

  start(): void {
    this.sweep = setInterval(() => this.wake(), this.o.sweepMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    if (this.retry) clearTimeout(this.retry.timer);
    await this.running;
  }

  /** Runs a pass soon; `mapping`: a new SMSC or RBM id was recorded, waiting receipts may match now. */
  wake(mapping = false): void {
    if (mapping) this.mappingsChanged = true;
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.passes().finally(() => {
      this.running = null;
    });
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
        if (!this.again) await this.sleepUntilNextDue();
      } catch (err) {
        // PostgreSQL unreachable: the rows are durable, the next wake or sweep takes them.
        this.o.logger.warn({ err: (err as Error).name }, 'receipt inbox pass failed');
        return;
      }
    } while (this.again && !this.stopped);
  }

  /**
   * The next wake is read from the database, not kept in memory: a retry's backoff, a dead
   * dispatcher's lease and a receipt waiting for its mapping all end at their row's
   * next_attempt_at. A timer of our own may fire a little before the database's clock says the row
   * is due (Node's timers count from a cached, truncated loop time): the pass it starts finds
   * nothing and asks again, so such a row waited for the slow sweep before. The floor keeps a row
   * another dispatcher is claiming at this instant from spinning this one.
   */
  private async sleepUntilNextDue(): Promise<void> {
    const ms = await this.o.inbox.msUntilNextDue();
    if (ms !== null) this.wakeIn(Math.max(Math.ceil(ms), MIN_WAKE_MS));
  }

  private async pass(): Promise<void> {
    if (this.mappingsChanged) {
      this.mappingsChanged = false;
      await this.o.inbox.wakeAwaitingMapping();
    }
    const leaseMs = this.signalTimeoutMs * 3;
    while (!this.stopped) {
      const rows = await this.o.inbox.claimDue(this.batchSize, leaseMs);
      if (rows.length === 0) return;
      await Promise.all(rows.map((row) => this.dispatch(row)));
    }
  }

  private async dispatch(row: InboxRow): Promise<void> {
    const target = await this.o.resolver.resolve(row);
    if (!target) return this.unmapped(row);
    let outcome: SignalOutcome;
    try {
      outcome = await this.signal(target);
    } catch (err) {
      this.counts.retried++;
      const delay = Math.min(RETRY_BASE_MS * 2 ** Math.min(row.attempts - 1, 16), this.o.retryMaxMs);
      this.o.logger.warn(
        {
          inboxId: row.id,
          kind: row.kind,
          attempts: row.attempts,
          retryInMs: delay,
          err: (err as Error).name,
        },
        'receipt not delivered to its workflow yet',
      );
      return this.o.inbox.retryLater(row.id, target.workflowId, delay);
    }
    const finalFor = target.kind === 'sms' ? target.finalFor : null;
    if (outcome === 'delivered') {
      this.counts.delivered++;
      return this.o.inbox.settle(row.id, 'delivered', target.workflowId, finalFor);
    }
    this.counts.late++;
    this.o.logger.info(
      { inboxId: row.id, kind: row.kind, event: row.event, workflowId: target.workflowId },
      'late receipt: its message had finished',
    );
    return this.o.inbox.settle(row.id, 'late', target.workflowId, finalFor);
  }

  private wakeIn(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.stopped || (this.retry && this.retry.at <= at)) return;
    if (this.retry) clearTimeout(this.retry.timer);
    this.retry = {
      at,
      timer: setTimeout(() => {
        this.retry = null;
        this.wake();
      }, delayMs),
    };
  }

  private async unmapped(row: InboxRow): Promise<void> {
    if (Date.now() - row.receivedAt.getTime() < this.o.orphanAfterMs) {
      return this.o.inbox.awaitMapping(row.id, this.o.sweepMs);
    }
    this.counts.orphaned++;
    this.o.logger.warn(
      { inboxId: row.id, kind: row.kind, connector: row.connector, smscMessageId: row.externalId },
      'orphaned receipt: no message has its id',
    );
    return this.o.inbox.settle(row.id, 'orphaned', null);
  }

  private async signal(target: ResolvedReceipt): Promise<SignalOutcome> {
    const sent =
      target.kind === 'sms'
        ? this.o.sink.smsReceipt(target.workflowId, target.receipt)
        : this.o.sink.rcsEvent(target.workflowId, target.event);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new SignalTimeoutError()), this.signalTimeoutMs);
    });
    try {
      return await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
      sent.catch(() => undefined);
    }
  }
}
