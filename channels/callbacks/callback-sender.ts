// Sends the outbox's status events (store/status-events.ts): claims due ones, POSTs each signed
// with its tenant's secret, acknowledges a 2xx, retries anything else with exponential backoff
// and jitter until the retry budget is spent, then gives the event up. It runs beside the
// workflows, never in their way: a slow or dead receiver holds only its own message's events.
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { OutboxEvent } from '../../store/status-events';
import { CallbackAddressRefusedError, checkLiteralHost, guardedLookup } from './address-guard';
import { SIGNATURE_HEADER, signCallback } from './signature';

export type CallbackResult = 'sent' | 'failed' | 'undeliverable' | 'refused';

export interface CallbackMeter {
  counted(result: CallbackResult): void;
}

export interface CallbackOutbox {
  claim(limit: number, leaseMs: number): Promise<OutboxEvent[]>;
  acknowledged(id: string): Promise<void>;
  retryIn(id: string, delayMs: number, error: string): Promise<void>;
  undeliverable(id: string, error: string): Promise<void>;
}

export interface CallbackSenderOptions {
  outbox: CallbackOutbox;
  secrets: { secretFor(tenant: string): Promise<string | null> };
  logger: Logger;
  meter?: CallbackMeter;
  /** An event given up on, for the audit trail. */
  onUndeliverable?: (event: OutboxEvent, error: string) => Promise<void>;
  timeoutMs: number;
  /** Retries stop this long after the event was written. */
  retryForMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  allowPrivateHosts: boolean;
  pollMs: number;
  concurrency: number;
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
  private readonly agent: Agent;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private filling: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly o: CallbackSenderOptions) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(o.allowPrivateHosts), timeout: o.timeoutMs },
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
    });
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
    await this.agent.close();
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
      events = await this.o.outbox.claim(free, this.o.timeoutMs * 3 + 5_000);
    } catch (err) {
      this.o.logger.warn({ err: codeOf(err) }, 'status event outbox claim failed');
      return;
    }
    for (const event of events) {
      const sending: Promise<void> = this.deliver(event)
        .catch((err: unknown) => this.o.logger.warn({ err: codeOf(err) }, 'status event not settled'))
        .finally(() => {
          this.inFlight.delete(sending);
          this.wake();
        });
      this.inFlight.add(sending);
    }
  }

  private async deliver(e: OutboxEvent): Promise<void> {
    let failure: string;
    try {
      const secret = await this.o.secrets.secretFor(e.tenant);
      if (!secret) return await this.giveUp(e, 'NO_WEBHOOK_SECRET', 'undeliverable');
      const status = await this.post(e, secret);
      if (status >= 200 && status < 300) {
        await this.o.outbox.acknowledged(e.id);
        this.o.meter?.counted('sent');
        return;
      }
      failure = `HTTP_${status}`;
    } catch (err) {
      if (refused(err)) return this.giveUp(e, 'ADDRESS_REFUSED', 'refused');
      failure = codeOf(err);
    }
    if (Date.now() - e.createdAt.getTime() >= this.o.retryForMs)
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
    await this.o.outbox.retryIn(e.id, delay, failure);
  }

  private async post(e: OutboxEvent, secret: string): Promise<number> {
    const url = new URL(e.url);
    checkLiteralHost(url, this.o.allowPrivateHosts);
    const body = JSON.stringify(e.event);
    const res = await request(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Switchboard-Callbacks/1',
        [SIGNATURE_HEADER.toLowerCase()]: signCallback(secret, body),
      },
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    await res.body.dump();
    return res.statusCode;
  }

  private async giveUp(e: OutboxEvent, error: string, result: 'undeliverable' | 'refused'): Promise<void> {
    await this.o.outbox.undeliverable(e.id, error);
    this.o.meter?.counted(result);
    this.o.logger.warn(
      { messageId: e.event.messageId, sequence: e.event.sequence, attempts: e.attempts, err: error },
      'status callback given up',
    );
    await this.o.onUndeliverable?.(e, error);
  }
}
