import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ReceiptRouter } from '../channels/receipts/receipt-router';
import { RcsWebhookSignatureError } from '../channels/rcs/errors';
import { RBM_SIGNATURE_HEADER, processRbmWebhookPost } from '../channels/rcs/webhook';
import { registerKeyDirectoryRoutes } from '../e2ee/key-directory-http';
import type { KeyDirectoryRoutesOptions } from '../e2ee/key-directory-http';
import { mediaUploadRoutes } from '../channels/media/upload-routes';
import type { MediaUploadRoutesOptions } from '../channels/media/upload-routes';

export const RBM_WEBHOOK_PATH = '/rbm/events';

/**
 * The HTTP side of the receipt router: RBM posts its events here. With `keyDirectory`, the same
 * server answers apps' KeyPackage claims (`POST /v1/e2ee/keyPackages:claim`, its own bearer token);
 * with `mediaUploads`, apps' file uploads (`POST /v1/media`, the same bearer token).
 */
export async function startReceiptsServer(options: {
  host: string;
  port: number;
  clientToken: string;
  router: ReceiptRouter;
  logger: Logger;
  keyDirectory?: Omit<KeyDirectoryRoutesOptions, 'logger'>;
  mediaUploads?: Omit<MediaUploadRoutesOptions, 'logger'>;
}): Promise<{ url: string; server: FastifyInstance }> {
  // Close does not wait for keep-alive clients (RBM, apps): shutdown must not hang on them.
  const server = Fastify({ logger: false, forceCloseConnections: true });
  // The signature covers exact bytes, so the body must reach us unparsed.
  server.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
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
      if (err instanceof RcsWebhookSignatureError) {
        options.logger.warn({ reason: err.message }, 'rejected RBM webhook post');
        return reply.code(401).send({ error: 'invalid signature' });
      }
      throw err;
    }
    if (post.kind === 'handshake') return reply.type('text/plain').send(post.secret);
    if (post.kind === 'event') await options.router.routeRcsEvent(post.event);
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
