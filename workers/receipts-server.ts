import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { rcsInboxReceipt } from '../channels/receipts/receipt-intake';
import type { ReceiptRecorder } from '../channels/receipts/receipt-intake';
import { RcsWebhookSignatureError } from '../channels/rcs/errors';
import { RBM_SIGNATURE_HEADER, processRbmWebhookPost } from '../channels/rcs/webhook';
import { registerKeyDirectoryRoutes } from '../e2ee/key-directory-http';
import type { KeyDirectoryRoutesOptions } from '../e2ee/key-directory-http';
import { RejectionLog } from './rejection-log';
import { meterRequests } from '../channels/http-meter';
import type { HttpMeter } from '../channels/http-meter';
import { mediaUploadRoutes } from '../channels/media/upload-routes';
import type { MediaUploadRoutesOptions } from '../channels/media/upload-routes';

export const RBM_WEBHOOK_PATH = '/rbm/events';

/** RBM redelivers an event until it gets a 2xx, for up to days; this many recent ids are remembered. */
const SEEN_EVENT_IDS = 50_000;

/** Name and code of an error, never its message: messages can carry numbers, texts or SQL. */
export function errorCause(err: unknown): { name: string; code?: string } {
  if (!(err instanceof Error)) return { name: typeof err };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
  };
}

/**
 * The HTTP side of the receipt router: RBM posts its events here. With `keyDirectory`, the same
 * server answers apps' KeyPackage claims (`POST /v1/e2ee/keyPackages:claim`, its own bearer token);
 * with `mediaUploads`, apps' file uploads (`POST /v1/media`, the same bearer token).
 */
export async function startReceiptsServer(options: {
  host: string;
  port: number;
  clientToken: string;
  /** The RBM agents whose events this webhook takes: every region's RCS_AGENT_ID. */
  agentIds: readonly string[];
  /** RBM gets its 200 once the event is written here; a failed write answers 500, and RBM retries. */
  inbox: ReceiptRecorder;
  logger: Logger;
  keyDirectory?: Omit<KeyDirectoryRoutesOptions, 'logger'>;
  /** At most one line per this interval for rejected posts (10 s). */
  rejectionLogIntervalMs?: number;
  mediaUploads?: Omit<MediaUploadRoutesOptions, 'logger'>;
  meter?: HttpMeter;
}): Promise<{ url: string; server: FastifyInstance }> {
  // Close does not wait for keep-alive clients (RBM, apps): shutdown must not hang on them.
  const server = Fastify({ logger: false, forceCloseConnections: true });
  meterRequests(server, options.meter);
  const agents = new Set(options.agentIds);
  const seen = new LRUCache<string, true>({ max: SEEN_EVENT_IDS });
  const rejections = new RejectionLog(
    options.logger,
    'rejected RBM webhook posts',
    options.rejectionLogIntervalMs ?? 10_000,
  );
  // The signature covers exact bytes, so the body must reach us unparsed.
  server.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  server.setErrorHandler((err: FastifyError, _request, reply) => {
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: err.code ?? 'bad request' });
    options.logger.error({ cause: errorCause(err) }, 'receipts server request failed');
    return reply.code(500).send({ error: 'internal error' });
  });
  server.get('/healthz', () => ({ ok: true }));
  server.post(RBM_WEBHOOK_PATH, async (request, reply) => {
    let post;
    try {
      post = processRbmWebhookPost(
        request.body as Buffer,
        request.headers[RBM_SIGNATURE_HEADER],
        options.clientToken,
      );
    } catch (err) {
      if (!(err instanceof RcsWebhookSignatureError)) throw err;
      rejections.record(err.reason);
      return reply.code(401).send({ error: 'invalid signature' });
    }
    if (post.kind === 'handshake') return reply.type('text/plain').send(post.secret);
    if (post.kind !== 'event') return reply.code(200).send({});
    const { event } = post;
    if (!agents.has(event.agentId)) {
      // Signed with our client token, yet for an agent this deployment does not run.
      rejections.record('unknown agentId');
      return reply.code(403).send({ error: 'agentId: not an agent of this webhook' });
    }
    const key = `${event.agentId}\0${event.eventId}`;
    if (seen.has(key)) return reply.code(200).send({});
    seen.set(key, true);
    try {
      await options.inbox.record(rcsInboxReceipt(event));
    } catch (err) {
      // Not recorded: forget it, so RBM's retry of this event is recorded.
      seen.delete(key);
      options.logger.error(
        { cause: errorCause(err), eventType: event.eventType },
        'recording an RBM event failed',
      );
      return reply.code(500).send({ error: 'internal error' });
    }
    if (event.eventType === 'E2EE_DECRYPT_FAILED') {
      // For security operations: key negotiation and decryption failures, by code, never content.
      options.logger.warn(
        { security: 'e2ee', messageId: event.messageId, code: event.errorCode ?? null },
        'E2EE failure reported by the phone',
      );
    }
    return reply.code(200).send({});
  });
  if (options.keyDirectory) {
    await registerKeyDirectoryRoutes(server, { ...options.keyDirectory, logger: options.logger });
  }
  if (options.mediaUploads) {
    await server.register(mediaUploadRoutes({ ...options.mediaUploads, logger: options.logger }));
  }
  const address = await server.listen({ host: options.host, port: options.port });
  return { url: address, server };
}
