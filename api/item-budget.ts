// The per-tenant budget of messages (items) per window, beside the per-request limit: a batch of
// 1,000 is 1,000 messages, not one request. All of a batch fits in what is left, or none of it is
// taken and the request is refused (429 with Retry-After).
import type { FastifyReply } from 'fastify';
import { ClientLimiter } from '../channels/client-limiter';
import { problem, sendProblem } from './problem';

export class ItemBudget {
  private readonly windows: ClientLimiter;

  constructor(private readonly options: { max: number; windowMs: number }) {
    this.windows = new ClientLimiter({ limit: options.max, windowMs: options.windowMs });
  }

  /** Takes `items` from the tenant's budget; false once it answered 429 on the reply. */
  take(tenant: string, items: number, reply: FastifyReply): boolean {
    const admission = this.windows.take(`tenant:${tenant}`, items);
    if (admission.allowed) return true;
    void sendProblem(
      reply.header('retry-after', String(admission.retryAfterSeconds)),
      problem(
        429,
        `At most ${this.options.max} messages per ${this.options.windowMs / 1000} s for this tenant (batch items each count); ${items} do not fit in what is left; nothing was started.`,
      ),
    );
    return false;
  }
}
