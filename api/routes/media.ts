// POST /v1/media with an API key: an app uploads a file (the claim check, store/media-objects.ts)
// and sends messages with `media: {mediaId}`. The raw file is the body, Content-Type its media
// type, `?fileName=` its name; the tenant is the key's. Nothing here logs the name or the id.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_TYPE_PATTERN,
  MEDIA_UPLOAD_PATH,
} from '../../domain/media';
import type { MediaObjectStore } from '../../store/media-objects';
import { tenantOf } from '../auth';
import { problem, problemResponses, problemSchema, sendProblem } from '../problem';
import { mediaUploadedSchema } from '../schemas';

const uploadQuery = z.object({
  fileName: z
    .string()
    .regex(MEDIA_FILE_NAME_PATTERN, { error: 'a file name of 1 to 100 characters, no slashes' }),
});

const mediaTypeOf = (header: string | undefined) => header?.split(';')[0]?.trim() ?? '';

export const mediaRoutes: FastifyPluginAsyncZod<{ store: Pick<MediaObjectStore, 'put'> }> = (
  app,
  options,
) => {
  // Any media type reaches the handler as raw bytes (in this plugin only).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post(
    MEDIA_UPLOAD_PATH,
    {
      config: { scope: 'send' },
      bodyLimit: MAX_MEDIA_BYTES,
      // Before the body is read: a type we would refuse is refused unread.
      preParsing: async (request, reply) => {
        if (!MEDIA_TYPE_PATTERN.test(mediaTypeOf(request.headers['content-type'])))
          return sendProblem(
            reply,
            problem(415, 'Content-Type must be the file’s media type.', [
              { field: 'content-type', detail: 'a media type like image/png' },
            ]),
          );
      },
      // The body is the file itself; the schema below only documents it.
      validatorCompiler: ({ httpPart }) =>
        httpPart === 'querystring'
          ? (data) => {
              const parsed = uploadQuery.safeParse(data);
              return parsed.success ? { value: parsed.data } : { error: parsed.error };
            }
          : (data: unknown) => ({ value: data }),
      schema: {
        summary: 'Upload a file for messages to carry (at most 512 KiB)',
        tags: ['media'],
        security: [{ apiKey: [] }],
        consumes: ['*/*'],
        querystring: uploadQuery,
        body: z.string().meta({ format: 'binary' }).describe('The file; Content-Type is its media type'),
        response: {
          201: mediaUploadedSchema,
          ...problemResponses,
          413: problemSchema.describe('The file is over 512 KiB'),
          415: problemSchema.describe('Content-Type is not a media type'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as unknown;
      if (!Buffer.isBuffer(body) || body.length === 0)
        return sendProblem(
          reply,
          problem(400, 'The body must be the file.', [{ field: 'body', detail: 'at least 1 byte' }]),
        );
      const stored = await options.store.put({
        tenant: tenantOf(request),
        data: body,
        contentType: mediaTypeOf(request.headers['content-type']),
        fileName: request.query.fileName,
      });
      return reply.code(201).header('cache-control', 'no-store').send({
        mediaId: stored.mediaId,
        bytes: stored.bytes,
        contentType: stored.contentType,
        fileName: stored.fileName,
        expiresAt: stored.expiresAt.toISOString(),
      });
    },
  );
  return Promise.resolve();
};
