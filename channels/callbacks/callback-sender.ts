// Sends the outbox's status events (store/status-events.ts): claims due ones, POSTs each signed
// with its tenant's secret, acknowledges a 2xx, retries anything else with exponential backoff
// and jitter until the retry budget is spent, then gives the event up. It runs beside the
// workflows, never in their way: a slow or dead receiver holds only its own message's events.
import type { Logger } from 'pino';
import type { OutboxClaim, OutboxEvent } from '../../store/status-events';
import { CallbackAddressRefusedError } from './address-guard';
import { CallbackTransport } from './callback-transport';
import type { PrivateTargets } from './callback-transport';

export type CallbackResult = 'sent' | 'failed' | 'undeliverable' | 'refused';

export interface CallbackMeter {
  counted(result: CallbackResult): void;
}

export interface CallbackOutbox {
  claim(
    limit: number,
    leaseMs: number,
    fairness: { inFlight: ReadonlyMap<string, number>; perTenant: number },
  ): Promise<OutboxEvent[]>;
  acknowledged(claim: OutboxClaim): Promise<void>;
  retryIn(claim: OutboxClaim, delayMs: number, error: string): Promise<void>;
  undeliverable(claim: OutboxClaim, error: string): Promise<void>;
}

export interface CallbackSenderOptions {
  outbox: CallbackOutbox;
  /** The tenant's signing secrets, current first (none: no webhook); a rotation's previous one in its grace. */
  secrets: { secretsFor(tenant: string): Promise<string[]> };
  logger: Logger;
  meter?: CallbackMeter;
  /** An event given up on, for the audit trail. */
  onUndeliverable?: (event: OutboxEvent, error: string) => Promise<void>;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Retries stop this long after the event was first tried (not written: a queue may wait long). */
  retryForMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  privateTargets: PrivateTargets;
  pollMs: number;
  concurrency: number;
  /** In flight at once for one tenant (of `concurrency`), so one dead receiver cannot take them all. */
  concurrencyPerTenant: number;
}

/** A failure's code for logs and the outbox row: never the URL, a header or the body. */
function codeOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = e.code ?? e.cause?.code ?? e.name;
  return typeof code === 'string' ? code.slice(0, 64) : 'UNKNOWN';
}

const refused = (err: unknown) =>
  err instanceof CallbackAddressRefusedError ||
  (err as { cause?: unknown }).cause instanceof CallbackAddressRefusedError ||
  (err as { name?: unknown }).name === 'CallbackAddressRefusedError';

export class CallbackSender {
  private readonly transport: CallbackTransport;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perTenant = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private filling: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly o: CallbackSenderOptions) {
    this.transport = new CallbackTransport(o);
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.o.pollMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.filling;
    await Promise.all(this.inFlight);
    await this.transport.close();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.filling) {
      this.again = true;
      return;
    }
    this.filling = this.fill().finally(() => {
      this.filling = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Claims as many events as there are free slots; each slot frees itself and wakes the loop. */
  private async fill(): Promise<void> {
    const free = this.o.concurrency - this.inFlight.size;
    if (free <= 0) return;
    let events: OutboxEvent[];
    try {
      // The lease outlasts a POST's timeout, so a live sender always settles before it runs out.
      events = await this.o.outbox.claim(free, this.o.timeoutMs * 3 + 5_000, {
        inFlight: this.perTenant,
        perTenant: this.o.concurrencyPerTenant,
      });
    } catch (err) {
      this.o.logger.warn({ err: codeOf(err) }, 'status event outbox claim failed');
      return;
    }
    for (const event of events) {
      this.perTenant.set(event.tenant, (this.perTenant.get(event.tenant) ?? 0) + 1);
      const sending: Promise<void> = this.deliver(event)
        .catch((err: unknown) => this.o.logger.warn({ err: codeOf(err) }, 'status event not settled'))
        .finally(() => {
          this.inFlight.delete(sending);
          const left = (this.perTenant.get(event.tenant) ?? 1) - 1;
          if (left > 0) this.perTenant.set(event.tenant, left);
          else this.perTenant.delete(event.tenant);
          this.wake();
        });
      this.inFlight.add(sending);
    }
  }

  private async deliver(e: OutboxEvent): Promise<void> {
    let failure: string;
    try {
      const secrets = await this.o.secrets.secretsFor(e.tenant);
      if (secrets.length === 0) return await this.giveUp(e, 'NO_WEBHOOK_SECRET', 'undeliverable');
      const status = await this.transport.post(e.url, JSON.stringify(e.event), secrets);
      if (status >= 200 && status < 300) {
        await this.o.outbox.acknowledged(e);
        this.o.meter?.counted('sent');
        return;
      }
      failure = `HTTP_${status}`;
    } catch (err) {
      if (refused(err)) return this.giveUp(e, 'ADDRESS_REFUSED', 'refused');
      failure = codeOf(err);
    }
    if (Date.now() - e.firstAttemptAt.getTime() >= this.o.retryForMs)
      return this.giveUp(e, failure, 'undeliverable');
    const ceiling = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** Math.min(e.attempts - 1, 30));
    // Jitter (half to all of the step): receivers coming back are not hit by every sender at once.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.o.meter?.counted('failed');
    this.o.logger.info(
      {
        messageId: e.event.messageId,
        sequence: e.event.sequence,
        attempts: e.attempts,
        retryInMs: delay,
        err: failure,
      },
      'status callback not acknowledged; retrying',
    );
    await this.o.outbox.retryIn(e, delay, failure);
  }

  private async giveUp(e: OutboxEvent, error: string, result: 'undeliverable' | 'refused'): Promise<void> {
    await this.o.outbox.undeliverable(e, error);
    this.o.meter?.counted(result);
    this.o.logger.warn(
      { messageId: e.event.messageId, sequence: e.event.sequence, attempts: e.attempts, err: error },
      'status callback given up',
    );
    await this.o.onUndeliverable?.(e, error);
  }
}
