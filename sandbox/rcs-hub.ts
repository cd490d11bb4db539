// The sandbox RCS hub: an HTTP server speaking the RBM v1 subset Switchboard uses, driven by
// the number plan, with an inspectable request log and run-time fault injection.
//
// Capability features it answers (RBM names, plus our two extensions from channels/rcs/types):
//   every RCS phone   REVOCATION, ACTION_DIAL, ACTION_OPEN_URL, ACTION_SHARE_LOCATION,
//                     ACTION_VIEW_LOCATION, ACTION_CREATE_CALENDAR_EVENT
//   media: true       + RICHCARD_STANDALONE, RICHCARD_CAROUSEL, FILE_TRANSFER_HTTP. Rich cards
//                     are how media reaches a phone, so a text-only phone has neither; either
//                     name is a valid media test. A send carrying a file to it gets 400, as RBM
//                     answers INVALID_ARGUMENT for content the device cannot show.
//   e2ee: true        + E2EE_MLS
//
// E2EE (our `e2eeMessage` extension, channels/rcs/rbm-wire.ts): with `phones`, an accepted
// encrypted message is handed to the recipient's simulated MLS devices at delivery time, and the
// phone's answer decides the event: DELIVERED, or E2EE_DECRYPT_FAILED with the phone's code. The
// ciphertext lives only in the message book until then; the request log, counters and logs never
// see a body.

import { createHash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pino from 'pino';
import type { Logger } from 'pino';
import { RCS_FEATURE_E2EE_MLS, RCS_FEATURE_FILE_TRANSFER, RCS_FEATURE_RICHCARD } from '../channels/rcs/types';
import { decodeE2eeMessage, parseTtlSeconds } from '../channels/rcs/rbm-wire';
import type { RbmBatchGetResponse, RbmErrorBody } from '../channels/rcs/rbm-wire';
import { DEFAULT_NUMBER_PLAN, behaviourFor } from './number-plan';
import type { NumberPlanRow, SandboxBehaviour } from './number-plan';
import { applyFaults, noFaults, pickInjectedStatus } from './rcs-hub-faults';
import type { ActiveFaults, RcsHubFaults } from './rcs-hub-faults';
import { MessageBook } from './rcs-hub-messages';
import type { HubMessageState } from './rcs-hub-messages';
import { WebhookPoster } from './rcs-hub-webhook';

export type { RcsHubFaults } from './rcs-hub-faults';
export type { HubMessageState } from './rcs-hub-messages';

/**
 * The simulated phones behind the hub (sandbox/phones.ts's SandboxPhones fits). `receive` hands an
 * encrypted message to every device of the number and answers whether they all decrypted it;
 * `ensure` starts an E2EE number's phone (its devices publish KeyPackages), idempotently.
 */
export interface SandboxHubPhones {
  receive(
    msisdn: string,
    message: { ciphertext: Buffer; welcome?: Buffer; messageId: string },
  ): Promise<{ ok: true } | { ok: false; kind?: string; code: string }>;
  ensure(msisdn: string): Promise<unknown>;
}

export interface SandboxRcsHubOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  agentId: string;
  bearerToken: string;
  /** Where signed events go; settable later with setWebhookUrl (e.g. once the receiver has a port). */
  webhookUrl?: string;
  clientToken: string;
  deliveryDelayMs?: number;
  numberPlan?: NumberPlanRow[];
  /** When set, numbers of another region are refused with 403, like a regional endpoint. */
  region?: string;
  logger?: Logger;
  /** Source of randomness for error rates; inject a seeded one for reproducible runs. */
  random?: () => number;
  webhookAttempts?: number;
  webhookBackoffMs?: number;
  /**
   * Simulated MLS phones: they publish KeyPackages (on a capability lookup of an E2EE number) and
   * decrypt E2EE messages. Without them, an E2EE message is delivered unread.
   */
  phones?: SandboxHubPhones;
}

export type HubOperation = 'capabilities' | 'batchGet' | 'send' | 'revoke' | 'other';

export interface HubRequestRecord {
  method: string;
  op: HubOperation;
  path: string;
  msisdn: string | null;
  messageId: string | null;
  status: number;
  /** Answered by inject() rather than by the number plan. */
  injected: boolean;
  at: number;
}

export interface HubCounters {
  capabilityLookups: number;
  batchGets: number;
  sends: number;
  acceptedSends: number;
  duplicateSends: number;
  rejectedSends: number;
  transientFailures: number;
  injectedFaults: number;
  unauthorized: number;
}

const BASE_FEATURES = [
  'REVOCATION',
  'ACTION_DIAL',
  'ACTION_OPEN_URL',
  'ACTION_SHARE_LOCATION',
  'ACTION_VIEW_LOCATION',
  'ACTION_CREATE_CALENDAR_EVENT',
];

const OPS: Record<string, HubOperation> = {
  '/v1/phones/:msisdn/capabilities': 'capabilities',
  '/v1/users:batchGet': 'batchGet',
  '/v1/users::batchGet': 'batchGet',
  '/v1/phones/:msisdn/agentMessages': 'send',
  '/v1/phones/:msisdn/agentMessages/:messageId': 'revoke',
};

type PhoneRequest = FastifyRequest<{
  Params: { msisdn: string; messageId?: string };
  Querystring: { agentId?: string; messageId?: string; requestId?: string };
  Body: unknown;
}>;

export class SandboxRcsHub {
  /** Every API request in arrival order; cleared by reset(). */
  readonly requests: HubRequestRecord[] = [];
  readonly counters: HubCounters = zeroCounters();
  private faults: ActiveFaults = noFaults();
  private readonly app: FastifyInstance;
  private readonly logger: Logger;
  private readonly poster: WebhookPoster;
  private readonly book: MessageBook;
  /** 503s already given per message, so rcsTransientFailures counts per messageId. */
  private readonly failuresGiven = new Map<string, number>();
  private readonly tokenDigest: Buffer;
  private readonly injected = new WeakSet<FastifyRequest>();

  constructor(private readonly options: SandboxRcsHubOptions) {
    this.logger = (options.logger ?? pino({ enabled: false })).child({ component: 'sandbox-rcs-hub' });
    this.tokenDigest = digest(`Bearer ${options.bearerToken}`);
    this.poster = new WebhookPoster({
      clientToken: options.clientToken,
      agentId: options.agentId,
      logger: this.logger,
      // 50 ms doubling to 5 s, 20 posts: a webhook down for a minute still gets every event.
      attempts: options.webhookAttempts ?? 20,
      backoffMs: options.webhookBackoffMs ?? 50,
      maxBackoffMs: 5000,
      timeoutMs: 2000,
    });
    this.poster.url = options.webhookUrl;
    this.book = new MessageBook({
      agentId: options.agentId,
      deliveryDelayMs: () => options.deliveryDelayMs ?? 30,
      isOffline: (msisdn) => this.isOffline(msisdn),
      emit: (event) => this.poster.push(event),
      ...(options.phones ? { e2eeReceiver: options.phones.receive.bind(options.phones) } : {}),
      // Only the error's class: a phone's error text could quote what it was given.
      onReceiverError: (err) =>
        this.logger.warn({ error: err instanceof Error ? err.name : typeof err }, 'sandbox phone failed'),
    });
    // Fastify's own request log prints URLs, and URLs hold phone numbers.
    this.app = fastify({ logger: false, forceCloseConnections: true });
    this.routes();
  }

  async start(): Promise<{ port: number; url: string }> {
    const host = this.options.host ?? '127.0.0.1';
    await this.app.listen({ port: this.options.port ?? 0, host });
    const address = this.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    this.logger.info({ port }, 'sandbox rcs hub listening');
    return { port, url: `http://${host}:${port}` };
  }

  async stop(): Promise<void> {
    this.book.clearTimers();
    await this.poster.stop();
    await this.app.close();
  }

  setWebhookUrl(url: string | undefined): void {
    this.poster.url = url;
  }

  /** RBM's configuration handshake against the current webhook: true when it echoed the secret. */
  verifyWebhook(secret = `sandbox-${Date.now()}`): Promise<boolean> {
    return this.poster.handshake(secret);
  }

  inject(faults: RcsHubFaults): void {
    const wasOffline = this.faults.offline;
    this.faults = applyFaults(this.faults, faults);
    this.book.resume([...wasOffline].filter((m) => !this.faults.offline.has(m)));
  }

  /** Clears faults, the request log and counters. Accepted messages stay, as on a real hub. */
  reset(): void {
    this.inject({ latencyMs: 0, errorRates: {}, offline: [], onlyOps: [] });
    this.faults = noFaults();
    this.requests.length = 0;
    Object.assign(this.counters, zeroCounters());
  }

  messageState(msisdn: string, messageId: string): HubMessageState | undefined {
    return this.book.state(msisdn, messageId);
  }

  get stats(): HubCounters & MessageBook['stats'] & WebhookPoster['stats'] {
    return { ...this.counters, ...this.book.stats, ...this.poster.stats };
  }

  private isOffline(msisdn: string): boolean {
    return this.faults.offline.has(msisdn) || this.behaviour(msisdn).rcsOffline;
  }

  private behaviour(msisdn: string): SandboxBehaviour {
    return behaviourFor(msisdn, this.options.numberPlan ?? DEFAULT_NUMBER_PLAN);
  }

  private routes(): void {
    this.app.addHook('onRequest', async (request, reply) => {
      const given = request.headers.authorization;
      if (given === undefined || !timingSafeEqual(digest(given), this.tokenDigest)) {
        this.counters.unauthorized++;
        return rbmError(reply, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      }
    });
    this.app.addHook('preHandler', async (request, reply) => {
      if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
      const op = OPS[request.routeOptions.url ?? ''] ?? 'other';
      const status = pickInjectedStatus(this.faults, this.options.random ?? Math.random, op);
      if (status === null) return;
      this.counters.injectedFaults++;
      this.injected.add(request);
      if (this.faults.retryAfterSeconds !== null)
        reply.header('retry-after', String(this.faults.retryAfterSeconds));
      return rbmError(
        reply,
        status,
        status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE',
        'Injected fault.',
      );
    });
    this.app.addHook('onSend', async (request, reply) => {
      this.record(request as PhoneRequest, reply);
    });

    this.app.get('/v1/phones/:msisdn/capabilities', (req: PhoneRequest, reply) =>
      this.capabilities(req, reply),
    );
    // '::' is fastify's escape for a literal ':' in RBM's custom-method path.
    this.app.post('/v1/users::batchGet', (req: PhoneRequest, reply) => this.batchGet(req, reply));
    this.app.post('/v1/phones/:msisdn/agentMessages', (req: PhoneRequest, reply) => this.send(req, reply));
    this.app.delete('/v1/phones/:msisdn/agentMessages/:messageId', (req: PhoneRequest, reply) =>
      this.revoke(req, reply),
    );
  }

  /** Shared checks for every per-phone route; returns the refusal already sent, if any. */
  private refusePhone(req: PhoneRequest, reply: FastifyReply): FastifyReply | null {
    if (req.query.agentId === undefined)
      return rbmError(reply, 400, 'INVALID_ARGUMENT', 'agentId is required.');
    if (req.query.agentId !== this.options.agentId) {
      return rbmError(reply, 403, 'PERMISSION_DENIED', 'Agent not accessible.');
    }
    const behaviour = this.behaviour(req.params.msisdn);
    if (this.options.region !== undefined && behaviour.region !== this.options.region) {
      return rbmError(reply, 403, 'PERMISSION_DENIED', 'Number not served by this regional endpoint.');
    }
    // RBM answers 404 to anything addressed at a phone that is not an RCS user.
    if (!behaviour.rcs) return rbmError(reply, 404, 'NOT_FOUND', 'Requested entity was not found.');
    return null;
  }

  private async capabilities(req: PhoneRequest, reply: FastifyReply): Promise<FastifyReply> {
    this.counters.capabilityLookups++;
    const refused = this.refusePhone(req, reply);
    if (refused) return refused;
    if (!req.query.requestId) return rbmError(reply, 400, 'INVALID_ARGUMENT', 'requestId is required.');
    const behaviour = this.behaviour(req.params.msisdn);
    // An E2EE phone has published its KeyPackages before anyone can learn it is one.
    if (behaviour.e2ee && this.options.phones) {
      try {
        await this.options.phones.ensure(req.params.msisdn);
      } catch (err) {
        this.logger.warn(
          { error: err instanceof Error ? err.name : typeof err },
          'sandbox phone did not start',
        );
        return rbmError(reply, 503, 'UNAVAILABLE', 'The service is currently unavailable.');
      }
    }
    return reply.code(200).send({ features: featuresFor(behaviour) });
  }

  private batchGet(req: PhoneRequest, reply: FastifyReply): FastifyReply {
    this.counters.batchGets++;
    const body = req.body as { users?: unknown; agentId?: unknown } | null;
    if (body?.agentId !== this.options.agentId)
      return rbmError(reply, 403, 'PERMISSION_DENIED', 'Agent not accessible.');
    if (!Array.isArray(body.users)) return rbmError(reply, 400, 'INVALID_ARGUMENT', 'users is required.');
    const users = body.users.filter((u): u is string => typeof u === 'string');
    const reachableUsers = users.filter((u) => {
      const b = this.behaviour(u);
      return b.rcs && (this.options.region === undefined || b.region === this.options.region);
    });
    const answer: RbmBatchGetResponse = {
      reachableUsers,
      totalRandomSampleUserCount: users.length,
      reachableRandomSampleUserCount: reachableUsers.length,
    };
    return reply.code(200).send(answer);
  }

  private send(req: PhoneRequest, reply: FastifyReply): FastifyReply {
    this.counters.sends++;
    const refused = this.refusePhone(req, reply);
    if (refused) return this.rejected(refused);
    const { msisdn } = req.params;
    const messageId = req.query.messageId;
    if (!messageId) return this.rejected(rbmError(reply, 400, 'INVALID_ARGUMENT', 'messageId is required.'));
    const body = req.body as { contentMessage?: unknown; ttl?: unknown } | null;
    const content = describeContent(body?.contentMessage);
    if (!content) return this.rejected(rbmError(reply, 400, 'INVALID_ARGUMENT', 'Invalid contentMessage.'));
    if (this.book.has(msisdn, messageId)) {
      this.counters.duplicateSends++;
      return rbmError(reply, 409, 'ALREADY_EXISTS', 'Message with this id already exists.');
    }
    const behaviour = this.behaviour(msisdn);
    const failureKey = `${msisdn}\u0000${messageId}`;
    const given = this.failuresGiven.get(failureKey) ?? 0;
    if (given < behaviour.rcsTransientFailures) {
      this.failuresGiven.set(failureKey, given + 1);
      this.counters.transientFailures++;
      return rbmError(reply, 503, 'UNAVAILABLE', 'The service is currently unavailable.');
    }
    if (behaviour.rcsRejects)
      return this.rejected(rbmError(reply, 400, 'INVALID_ARGUMENT', 'Message rejected.'));
    if (content.e2ee && !behaviour.e2ee) {
      return this.rejected(
        rbmError(reply, 400, 'INVALID_ARGUMENT', 'The device has no E2EE_MLS capability.'),
      );
    }
    if (content.hasFile && !behaviour.media) {
      return this.rejected(rbmError(reply, 400, 'INVALID_ARGUMENT', 'Content not supported by the device.'));
    }
    this.failuresGiven.delete(failureKey);
    this.book.accept(msisdn, messageId, parseTtlSeconds(body?.ttl), content.e2ee);
    this.counters.acceptedSends++;
    return reply.code(200).send({
      name: `phones/${msisdn}/agentMessages/${messageId}`,
      sendTime: new Date().toISOString(),
      // Ciphertext is not echoed back: the hub keeps it only until the phone has it.
      contentMessage: content.e2ee ? { e2eeMessage: {} } : body?.contentMessage,
    });
  }

  private revoke(req: PhoneRequest, reply: FastifyReply): FastifyReply {
    const refused = this.refusePhone(req, reply);
    if (refused) return refused;
    const revoked = this.book.revoke(req.params.msisdn, req.params.messageId ?? '');
    if (!revoked) return rbmError(reply, 404, 'NOT_FOUND', 'Message not found or already delivered.');
    return reply.code(200).send({});
  }

  private rejected(reply: FastifyReply): FastifyReply {
    this.counters.rejectedSends++;
    return reply;
  }

  private record(request: PhoneRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url ?? '';
    const op = OPS[route] ?? 'other';
    const params = (request.params ?? {}) as { msisdn?: string; messageId?: string };
    const query = (request.query ?? {}) as { messageId?: string };
    this.requests.push({
      method: request.method,
      op,
      path: request.url.split('?')[0] ?? request.url,
      msisdn: params.msisdn ?? null,
      messageId: params.messageId ?? query.messageId ?? null,
      status: reply.statusCode,
      injected: this.injected.has(request),
      at: Date.now(),
    });
    this.logger.debug({ op, status: reply.statusCode }, 'sandbox rcs hub answered');
  }
}

function featuresFor(behaviour: SandboxBehaviour): string[] {
  const features = [...BASE_FEATURES];
  if (behaviour.media) features.push(RCS_FEATURE_RICHCARD, 'RICHCARD_CAROUSEL', RCS_FEATURE_FILE_TRANSFER);
  if (behaviour.e2ee) features.push(RCS_FEATURE_E2EE_MLS);
  return features;
}

/** Which RBM content oneof was sent, and whether it carries a file; null when invalid. */
function describeContent(
  contentMessage: unknown,
): { hasFile: boolean; e2ee?: { ciphertext: Buffer; welcome?: Buffer } } | null {
  if (typeof contentMessage !== 'object' || contentMessage === null) return null;
  const c = contentMessage as Record<string, unknown>;
  const members = ['text', 'contentInfo', 'richCard', 'uploadedRbmFile', 'e2eeMessage'].filter(
    (k) => c[k] !== undefined,
  );
  if (members.length !== 1) return null;
  if (c.e2eeMessage !== undefined) {
    const e2ee = decodeE2eeMessage(c.e2eeMessage);
    return e2ee ? { hasFile: false, e2ee } : null;
  }
  if (c.text !== undefined) return typeof c.text === 'string' ? { hasFile: false } : null;
  if (c.richCard !== undefined) return { hasFile: JSON.stringify(c.richCard).includes('"fileUrl"') };
  return { hasFile: true };
}

function rbmError(reply: FastifyReply, code: number, status: string, message: string): FastifyReply {
  const body: RbmErrorBody = { error: { code, message, status } };
  return reply.code(code).send(body);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function zeroCounters(): HubCounters {
  return {
    capabilityLookups: 0,
    batchGets: 0,
    sends: 0,
    acceptedSends: 0,
    duplicateSends: 0,
    rejectedSends: 0,
    transientFailures: 0,
    injectedFaults: 0,
    unauthorized: 0,
  };
}
