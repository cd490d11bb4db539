// `POST /v1/media`: an app uploads a file before sending the message that carries it (the claim
// check, store/media-objects.ts). The body is the raw file, `Content-Type` its media type, the
// file name in `?fileName=` and the tenant in `?tenant=` (default "default"). A fastify plugin of
// its own, encapsulated (its parsers, hooks and error handler touch no other route), so the app
// server serves it today and a REST API can mount the same plugin later.
//
// Nothing here logs the file name (names often name a person), the media id (it is the claim on
// the file) or the token.

import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { bearerCheck } from '../bearer-auth';
import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_TYPE_PATTERN,
  MEDIA_UPLOAD_PATH,
  TENANT_PATTERN,
} from '../../domain/media';
import type { MediaUploadErrorBody, MediaUploadErrorCode, MediaUploadResponse } from '../../domain/media';
import type { MediaUpload, StoredMediaObject } from '../../store/media-objects';

export interface MediaUploadRoutesOptions {
  store: { put(upload: MediaUpload): Promise<StoredMediaObject> };
  /** Apps send `Authorization: Bearer <bearerToken>` (the key directory's token). */
  bearerToken: string;
  logger?: Logger;
}

const DEFAULT_TENANT = 'default';

/** The media type of a Content-Type header, parameters dropped; null when there is none. */
function mediaTypeOf(header: string | undefined): string | null {
  const type = header?.split(';')[0]?.trim();
  return type ? type : null;
}

export function mediaUploadRoutes(options: MediaUploadRoutesOptions): FastifyPluginAsync {
  const refusal = bearerCheck(options.bearerToken, 'media upload');
  const logger = options.logger?.child({ component: 'media-upload' });

  return (app: FastifyInstance) => {
    // Any media type reaches the handler as raw bytes (the host's parsers do not apply here).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    // Before the body is read: nobody without the token makes us buffer half a megabyte.
    app.addHook('onRequest', async (req, reply) => {
      const refused = refusal(req.headers.authorization);
      if (refused) {
        logger?.warn({ reason: refused }, 'media upload: bearer refused');
        reply.header('www-authenticate', 'Bearer');
        return fail(reply, 401, 'UNAUTHENTICATED', 'A valid bearer token is required.', 'authorization');
      }
    });

    app.setErrorHandler((err: FastifyError, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        return fail(
          reply,
          413,
          'PAYLOAD_TOO_LARGE',
          `The file must be at most ${MAX_MEDIA_BYTES} bytes.`,
          'body',
        );
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
        return fail(reply, 400, 'INVALID_ARGUMENT', 'The request body could not be read.', 'body');
      logger?.error({ error: err.name }, 'media upload failed');
      return fail(reply, 503, 'UNAVAILABLE', 'The media store is unavailable.');
    });

    app.post<{ Querystring: { fileName?: unknown; tenant?: unknown } }>(
      MEDIA_UPLOAD_PATH,
      {
        bodyLimit: MAX_MEDIA_BYTES,
        // Also before the body is read: a type we would refuse is refused unread.
        onRequest: async (req, reply) => {
          const type = mediaTypeOf(req.headers['content-type']);
          if (type === null || !MEDIA_TYPE_PATTERN.test(type)) {
            return fail(
              reply,
              415,
              'UNSUPPORTED_MEDIA_TYPE',
              'Content-Type must be the file’s media type, like image/png.',
              'content-type',
            );
          }
        },
      },
      async (req, reply) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0)
          return fail(reply, 400, 'INVALID_ARGUMENT', 'The body must be the file, at least 1 byte.', 'body');
        const { fileName, tenant = DEFAULT_TENANT } = req.query;
        if (typeof fileName !== 'string' || !MEDIA_FILE_NAME_PATTERN.test(fileName)) {
          return fail(
            reply,
            400,
            'INVALID_ARGUMENT',
            'fileName must be a file name of 1 to 100 characters, no slashes.',
            'fileName',
          );
        }
        if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant))
          return fail(
            reply,
            400,
            'INVALID_ARGUMENT',
            'tenant must be lowercase letters, digits and dashes.',
            'tenant',
          );
        const stored = await options.store.put({
          tenant,
          data: body,
          contentType: mediaTypeOf(req.headers['content-type'])!,
          fileName,
        });
        logger?.debug({ bytes: stored.bytes, contentType: stored.contentType }, 'media upload: stored');
        const answer: MediaUploadResponse = {
          mediaId: stored.mediaId,
          bytes: stored.bytes,
          contentType: stored.contentType,
          fileName: stored.fileName,
          expiresAt: stored.expiresAt.toISOString(),
        };
        return reply.code(201).header('cache-control', 'no-store').send(answer);
      },
    );
    return Promise.resolve();
  };
}

function fail(
  reply: FastifyReply,
  status: number,
  code: MediaUploadErrorCode,
  message: string,
  field?: string,
): FastifyReply {
  const body: MediaUploadErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return reply.code(status).send(body);
}
