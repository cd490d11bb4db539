// The shortlink page (issue 5, Recipe A):
//   GET  /s/:token   sends a one-time code to the bound number (unless one was sent a moment
//                    ago) and shows the "enter the code" form
//   POST /s/:token   code=123456 → the media (inline image or download); action=resend → new code
// Answers: 404 unknown token, 410 expired/revoked/exhausted, 429 client throttled or link locked,
// 403 wrong code, 503 code not sent. Every request for an existing link is audited through
// `audit` with metadata only (link id, message id, recipient hash, outcome): never the token, the
// code, the number or the media; the logger gets the same and less. Requests for links that do
// not exist are only counted (junk-counter.ts): one summary row per interval, not one per guess.
//
// Throttling is per client and counts guesses only (unknown tokens). It is applied after the
// lookup, to guesses alone: a request for an existing link is always answered on that link's own
// limits (wrong codes, codes sent, kept in PostgreSQL). So a guessing client, or a flood of
// guesses arriving through a proxy that makes every user one address, never locks anybody out
// of a real link. A throttled guesser can still tell a live token from a dead one by the answer,
// as it could before; 144 random bits make that search hopeless, and the throttle's job is to
// tell well-behaved clients to back off and to keep guesses cheap.
//
// Fastify's own logger stays off: it would log the URL, and the URL is the token. The same goes
// for any proxy in front of this: keep request paths out of its access log.

import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  CodeDeliveryError,
  ShortlinkGoneError,
  ShortlinkNotFoundError,
  TooManyAttemptsError,
  WrongCodeError,
} from '../../store/shortlinks';
import type { OpenedShortlink, ShortlinkRef, StartOpenResult } from '../../store/shortlinks';
import { ClientLimiter } from '../client-limiter';
import type { ClientLimitOptions } from '../client-limiter';
import type { JunkCounter } from './junk-counter';
import { meterRequests } from '../http-meter';
import type { HttpMeter } from '../http-meter';
import {
  CONTENT_SECURITY_POLICY,
  codeFormPage,
  gonePage,
  lockedPage,
  mediaPage,
  notFoundPage,
  throttledPage,
  unavailablePage,
} from './pages';

/** What the page needs from the store (ShortlinkStore implements it). */
export interface ShortlinkService {
  startOpen(token: string): Promise<StartOpenResult>;
  verifyAndOpen(token: string, code: string): Promise<OpenedShortlink>;
}

export type ShortlinkAuditEventName =
  | 'shortlink.code_sent'
  | 'shortlink.code_not_sent'
  | 'shortlink.open'
  | 'shortlink.wrong_code'
  | 'shortlink.locked'
  | 'shortlink.gone'
  | 'shortlink.error';

/** One request for an existing link. Metadata only; the refs are null only for an error without a link. */
export interface ShortlinkAuditEvent {
  event: ShortlinkAuditEventName;
  /** ISO 8601. */
  at: string;
  linkId: string | null;
  messageId: string | null;
  /** Keyed hash of the bound number, as in audit_log.recipient_hash. */
  recipientHash: string | null;
  detail: Record<string, string | number | boolean | null>;
}

export interface ShortlinkAppOptions {
  store: ShortlinkService;
  /** Unknown tokens one client may present per window. Default 10 per 15 minutes. */
  guessLimit?: Pick<ClientLimitOptions, 'limit' | 'windowMs'>;
  /** Counts requests for links that do not exist; its owner records and stops it. */
  junk: JunkCounter;
  /**
   * Records an event. A failure to record a successful open withholds the media (503): no open
   * goes unaudited. Failures for other events are logged and do not change the answer.
   */
  audit: (event: ShortlinkAuditEvent) => Promise<void>;
  logger: Logger;
  meter?: HttpMeter;
  /** Fastify's trustProxy: set it when behind a proxy, or every client is the proxy's address. */
  trustProxy?: boolean | number | string | string[];
  now?: () => Date;
}

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store, max-age=0',
  pragma: 'no-cache',
  'referrer-policy': 'no-referrer',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'x-robots-tag': 'noindex, nofollow',
};

interface TokenParams {
  token: string;
}

const refDetail = (link: ShortlinkRef | null) => ({
  linkId: link?.linkId ?? null,
  messageId: link?.messageId ?? null,
  recipientHash: link?.recipientHash ?? null,
});

/** A hop count as the function fastify would make of it (its types take no number). */
function trustFunction(trust: ShortlinkAppOptions['trustProxy'] & {}) {
  if (typeof trust !== 'number') return trust;
  return (_address: string, hop: number) => hop < trust;
}

export function buildShortlinkApp(options: ShortlinkAppOptions): FastifyInstance {
  const { store, logger } = options;
  const now = options.now ?? (() => new Date());
  const guesses = new ClientLimiter({
    limit: 10,
    windowMs: 15 * 60_000,
    ...options.guessLimit,
    now: () => now().getTime(),
  });
  const app = Fastify({
    logger: false,
    trustProxy: trustFunction(options.trustProxy ?? false),
    bodyLimit: 4096,
    routerOptions: { maxParamLength: 1000 },
  });
  meterRequests(app, options.meter);

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
  });

  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);

  const record = async (
    event: ShortlinkAuditEventName,
    link: ShortlinkRef | null,
    detail: ShortlinkAuditEvent['detail'] = {},
  ): Promise<boolean> => {
    const entry: ShortlinkAuditEvent = { event, at: now().toISOString(), ...refDetail(link), detail };
    try {
      await options.audit(entry);
      logger.debug({ event, linkId: entry.linkId, ...detail }, 'shortlink event');
      return true;
    } catch (err) {
      logger.error(
        { event, linkId: entry.linkId, err: { name: err instanceof Error ? err.name : typeof err } },
        'shortlink audit failed',
      );
      return false;
    }
  };

  /** A request for a link that does not exist: counted, and throttled per client. */
  const junk = async (request: FastifyRequest, reply: FastifyReply) => {
    const admission = guesses.take(request.ip);
    if (admission.allowed) {
      options.junk.note('notFound');
      return html(reply, 404, notFoundPage());
    }
    options.junk.note('throttled');
    void reply.header('retry-after', String(admission.retryAfterSeconds));
    return html(reply, 429, throttledPage(admission.retryAfterSeconds));
  };

  /** The answers common to GET and POST for a link that cannot be opened, or none at all. */
  const refusal = async (request: FastifyRequest, reply: FastifyReply, err: unknown, method: string) => {
    if (err instanceof ShortlinkNotFoundError) return junk(request, reply);
    if (err instanceof ShortlinkGoneError) {
      await record('shortlink.gone', err.link, { reason: err.reason, method });
      return html(reply, 410, gonePage(err.reason));
    }
    if (err instanceof TooManyAttemptsError) {
      await record('shortlink.locked', err.link, { reason: err.reason, method });
      return html(reply, 429, lockedPage(err.reason));
    }
    if (err instanceof CodeDeliveryError) {
      await record('shortlink.code_not_sent', err.link, { reason: 'delivery-failed', method });
      return html(reply, 503, unavailablePage('We could not send the code to your phone just now.'));
    }
    const name = err instanceof Error ? err.name : typeof err;
    const link = (err as { link?: ShortlinkRef }).link ?? null;
    logger.error({ linkId: link?.linkId ?? null, err: { name } }, 'shortlink request failed');
    await record('shortlink.error', link, { error: name, method });
    return html(reply, 500, unavailablePage('The file could not be opened.'));
  };

  const sendCode = async (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    method: string,
  ): Promise<FastifyReply> => {
    let started: StartOpenResult;
    try {
      started = await store.startOpen(token);
    } catch (err) {
      return refusal(request, reply, err, method);
    }
    await record(started.codeSent ? 'shortlink.code_sent' : 'shortlink.code_not_sent', started, {
      ...(started.codeSent ? {} : { reason: 'recent' }),
      method,
    });
    return html(
      reply,
      200,
      codeFormPage({ notice: started.codeSent ? 'sent' : 'recent', codeExpiresAt: started.codeExpiresAt }),
    );
  };

  app.get<{ Params: TokenParams }>('/s/:token', { exposeHeadRoute: false }, async (request, reply) =>
    sendCode(request, reply, request.params.token, 'GET'),
  );

  // Link previews probe with HEAD: answered alike for every token, without a lookup or a code.
  app.head('/s/:token', async (_request, reply) => reply.code(200).type('text/html; charset=utf-8').send());

  app.post<{ Params: TokenParams; Body: Record<string, unknown> | undefined }>(
    '/s/:token',
    async (request, reply) => {
      const { token } = request.params;
      const body = request.body ?? {};
      if (body.action === 'resend') return sendCode(request, reply, token, 'POST');
      const code = typeof body.code === 'string' ? body.code.replace(/[\s-]/g, '') : '';

      let opened: OpenedShortlink;
      try {
        opened = await store.verifyAndOpen(token, code);
      } catch (err) {
        if (!(err instanceof WrongCodeError)) return refusal(request, reply, err, 'POST');
        await record('shortlink.wrong_code', err.link, {
          reason: err.reason,
          attemptsLeft: err.attemptsLeft,
          locked: err.locked,
        });
        if (err.locked) return html(reply, 429, lockedPage('wrong-codes'));
        const message =
          err.reason === 'malformed'
            ? 'The code is 6 digits.'
            : err.reason === 'no-code' || err.reason === 'code-expired'
              ? 'That code has expired or was already used. Ask for a new code.'
              : `That code is not right. ${err.attemptsLeft} attempt${err.attemptsLeft === 1 ? '' : 's'} left.`;
        return html(reply, 403, codeFormPage({ notice: 'none', error: message }));
      }
      const audited = await record('shortlink.open', opened, {
        contentType: opened.contentType,
        bytes: opened.media.length,
        opens: opened.opens,
        maxOpens: opened.maxOpens,
      });
      if (!audited) return html(reply, 503, unavailablePage('The file could not be opened.'));
      return html(reply, 200, mediaPage(opened));
    },
  );

  app.setNotFoundHandler(async (request, reply) => {
    // A token too long for the route, or /s/ with extra segments: still a guess.
    if (request.url.startsWith('/s/')) return junk(request, reply);
    return html(reply, 404, notFoundPage());
  });

  app.setErrorHandler(async (err: { name?: string; statusCode?: number }, _request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error({ err: { name: err.name } }, 'shortlink page error');
    return html(reply, status, unavailablePage('The request could not be handled.'));
  });

  return app;
}
