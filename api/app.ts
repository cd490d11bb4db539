// The REST API as a fastify app (not listening): API-key auth, per-tenant rate limit, the routes,
// RFC 9457 errors, and the OpenAPI 3.1 document generated from the routes' zod schemas.
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { TrustProxy } from '../config/trust-proxy';
import { z } from 'zod';
import { ValidationError } from '../domain/delivery-request';
import { errorCause } from '../workers/receipts-server';
import { installApiKeyAuth } from './auth';
import { ItemBudget } from './item-budget';
import type { KeyVerifier } from './auth';
import type { MessageStarter } from './message-starter';
import { fieldErrorsOf, problem, sendProblem } from './problem';
import { batchRoutes } from './routes/batch';
import { mediaRoutes } from './routes/media';
import { messageRoutes } from './routes/messages';
import type { MediaObjectStore } from '../store/media-objects';
import type { KeyPackageSource } from '../e2ee/key-directory';
import type { EscrowMemberSource } from '../e2ee/escrow-member-http';
import { keyPackageRoutes } from './routes/key-packages';
import { meterRequests } from '../channels/http-meter';
import type { HttpMeter } from '../channels/http-meter';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

export interface ApiAppOptions {
  keys: KeyVerifier;
  starter: MessageStarter;
  client: Client;
  namespace: string;
  /** Keys the list cursors' HMAC. */
  cursorKey: string;
  media: Pick<MediaObjectStore, 'put'>;
  /** The key directory, for apps that seal E2EE themselves with only their API key. */
  keyPackages: KeyPackageSource;
  /** Escrowed tenants' members, which their apps add to new groups. */
  escrowMembers: EscrowMemberSource;
  /** Requests per tenant (per client address before a key is known) per window. */
  rateLimit: { max: number; windowMs: number };
  /** Messages per tenant per rateLimit window, a batch's items each one (API_ITEM_RATE_LIMIT). */
  itemRateLimit: number;
  logger: Logger;
  /** Counts every answer by route pattern: the delivery-endpoints SLO's input. */
  meter?: HttpMeter;
  /** API_TRUST_PROXY: the proxies in front, so request.ip (the failed-check throttle's key) is the client's. */
  trustProxy?: TrustProxy;
  /** Told of every route as it is registered (fastify's onRoute), e.g. to check the OpenAPI document covers them. */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
}

interface ZodLikeIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: { keys?: string[] };
}

function validationProblem(err: FastifyError) {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = (err.validation as unknown as ZodLikeIssue[]).map((v) => ({
      path: v.instancePath.split('/').filter(Boolean),
      message: v.message ?? 'invalid',
      code: v.keyword,
      keys: v.params?.keys,
    }));
    return problem(400, 'The request was refused; nothing was started.', fieldErrorsOf(issues));
  }
  if (err instanceof z.ZodError)
    return problem(400, 'The request was refused; nothing was started.', fieldErrorsOf(err.issues));
  return null;
}

/** A hop count as the function fastify would make of it (its types take no number). */
function trustFunction(trust: TrustProxy) {
  if (typeof trust !== 'number') return trust;
  return (_address: string, hop: number) => hop < trust;
}

export async function buildApiApp(options: ApiAppOptions): Promise<FastifyInstance> {
  // Close does not wait for keep-alive clients: shutdown must not hang on them.
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    trustProxy: trustFunction(options.trustProxy ?? false),
  });
  const { onRoute } = options;
  meterRequests(app, options.meter);
  if (onRoute) app.addHook('onRoute', (route) => onRoute(route));
  // JSON only (POST /v1/media takes raw files in its own scope).
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    const invalid = validationProblem(err);
    if (invalid) return sendProblem(reply, invalid);
    if (err instanceof ValidationError)
      return sendProblem(
        reply,
        problem(400, 'The request was refused.', [{ field: err.field, detail: err.expected }]),
      );
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendProblem(
        reply,
        problem(413, 'The request body is over this route’s limit; nothing was started.'),
      );
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendProblem(
        reply,
        problem(415, 'Send JSON.', [{ field: 'content-type', detail: 'application/json' }]),
      );
    const status = err.statusCode ?? 500;
    if (status === 429) return sendProblem(reply, problem(429, err.message));
    if (status >= 400 && status < 500)
      return sendProblem(
        reply,
        problem(status === 404 ? 404 : 400, 'The request could not be read.', [
          { field: 'body', detail: 'a JSON body of the documented shape' },
        ]),
      );
    options.logger.error({ cause: errorCause(err) }, 'API request failed');
    return sendProblem(reply, problem(503, 'Switchboard could not take the request now; retry later.'));
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, problem(404, 'No such route.')));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard',
        version: '1',
        description: 'Send messages over RCS with SMS fallback. Errors are RFC 9457 problem details.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'sb_live_… API key' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // The docs page; its assets are served from the package itself, nothing is fetched from a CDN.
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
  installApiKeyAuth(app, options.keys);
  await app.register(rateLimit, {
    // After authentication (onRequest), before the body is read: a tenant's budget, not an address's.
    hook: 'preParsing',
    max: options.rateLimit.max,
    timeWindow: options.rateLimit.windowMs,
    keyGenerator: (request) =>
      request.principal ? `tenant:${request.principal.tenant}` : `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `At most ${context.max} requests per ${context.after} for this tenant; retry after the Retry-After seconds.`,
    }),
  });

  app.get(
    OPENAPI_PATH,
    { schema: { summary: 'This API’s OpenAPI 3.1 document', tags: ['meta'] } },
    (_request, reply) => reply.send(app.swagger()),
  );
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['meta'] } }, () => ({ ok: true }));
  const items = new ItemBudget({ max: options.itemRateLimit, windowMs: options.rateLimit.windowMs });
  await app.register(messageRoutes, {
    items,
    starter: options.starter,
    client: options.client,
    namespace: options.namespace,
    cursorKey: options.cursorKey,
  });
  await app.register(batchRoutes, { items, starter: options.starter, logger: options.logger });
  await app.register(mediaRoutes, { store: options.media });
  await app.register(keyPackageRoutes, {
    directory: options.keyPackages,
    escrowMembers: options.escrowMembers,
    logger: options.logger,
  });
  return app;
}
