// How the sandbox hub pushes events: signed like RBM, retried with capped backoff like RBM's push
// queue (which retries for days; a sandbox gives up after about a minute so tests end).

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { request } from 'undici';
import { rbmHandshakeBody, signRbmEventBody } from '../channels/rcs/webhook';
import type { RcsEvent } from '../channels/rcs/types';

export interface WebhookPosterOptions {
  clientToken: string;
  agentId: string;
  logger: Logger;
  attempts: number;
  backoffMs: number;
  /** The doubling backoff stops growing here. */
  maxBackoffMs: number;
  timeoutMs: number;
}

export interface WebhookStats {
  webhookPosts: number;
  webhookFailures: number;
  webhookGaveUp: number;
}

export class WebhookPoster {
  url: string | undefined;
  readonly stats: WebhookStats = { webhookPosts: 0, webhookFailures: 0, webhookGaveUp: 0 };
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: WebhookPosterOptions) {}

  /** Fire and forget; failures are counted and logged, never thrown at the hub's request path. */
  push(event: RcsEvent): void {
    const done = this.deliver(event).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** RBM's configuration handshake: true when the webhook echoes the secret. */
  async handshake(secret: string): Promise<boolean> {
    if (!this.url) return false;
    const res = await request(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: rbmHandshakeBody(this.options.clientToken, secret),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await res.body.text();
    return res.statusCode === 200 && text === secret;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(event: RcsEvent): Promise<void> {
    const subscription = `projects/rbm-${this.options.agentId}/subscriptions/rbm-agent-subscription`;
    const { body, signature } = signRbmEventBody(event, this.options.clientToken, subscription);
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      if (this.stopping.signal.aborted || !this.url) return;
      this.stats.webhookPosts++;
      try {
        const res = await request(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-signature': signature },
          body,
          signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.options.timeoutMs)]),
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        this.options.logger.warn(
          { eventType: event.eventType, status: res.statusCode, attempt },
          'webhook refused',
        );
      } catch {
        if (this.stopping.signal.aborted) return;
        this.options.logger.warn({ eventType: event.eventType, attempt }, 'webhook unreachable');
      }
      this.stats.webhookFailures++;
      if (attempt < this.options.attempts) {
        const delay = Math.min(this.options.backoffMs * 2 ** (attempt - 1), this.options.maxBackoffMs);
        await sleep(delay, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      }
    }
    this.stats.webhookGaveUp++;
  }
}
