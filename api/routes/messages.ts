// POST /v1/messages, GET /v1/messages/{id}, GET /v1/messages.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { outcomeJson } from '../../client/format';
import { UnknownMessageError, describeMessage } from '../../client/message-status';
import { tenantOf } from '../auth';
import type { ItemBudget } from '../item-budget';
import { listMessages } from '../message-list';
import type { ListDeps } from '../message-list';
import { messageLink } from '../message-starter';
import type { MessageStarter } from '../message-starter';
import { problem, problemResponses, problemSchema, sendProblem } from '../problem';
import {
  acceptedSchema,
  listQuerySchema,
  listSchema,
  messageIdParams,
  messageInputSchema,
  messageStatusSchema,
} from '../schemas';

export interface MessageRoutesOptions extends ListDeps {
  starter: MessageStarter;
  items: ItemBudget;
}

/** A message with an inline file (512 KiB, base64) fits; anything larger is refused unread (413). */
export const MESSAGE_BODY_LIMIT = 1024 * 1024;

const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe('The same key with the same body is the same message; with another body, 422'),
});

export const messageRoutes: FastifyPluginAsyncZod<MessageRoutesOptions> = (app, options) => {
  app.post(
    '/v1/messages',
    {
      config: { scope: 'send' },
      bodyLimit: MESSAGE_BODY_LIMIT,
      schema: {
        summary: 'Send a message',
        tags: ['messages'],
        security: [{ apiKey: [] }],
        headers: idempotencyHeaders,
        body: messageInputSchema,
        response: {
          200: acceptedSchema.describe('Idempotent replay: the message this key started before'),
          202: acceptedSchema.describe('Accepted: the message is on its way'),
          ...problemResponses,
          413: problemSchema.describe('The body is over 1 MiB'),
          422: problemSchema.describe('The Idempotency-Key was used with another body'),
        },
      },
    },
    async (request, reply) => {
      if (!options.items.take(tenantOf(request), 1, reply)) return reply;
      const result = await options.starter.start(
        tenantOf(request),
        request.body,
        request.headers['idempotency-key'] ?? null,
      );
      if ('problem' in result) return sendProblem(reply, result.problem);
      return reply
        .code(result.accepted.created ? 202 : 200)
        .header('location', result.accepted.links.self)
        .send(result.accepted);
    },
  );

  app.get(
    '/v1/messages/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A message’s outcome (the CLI’s `status --json`)',
        tags: ['messages'],
        security: [{ apiKey: [] }],
        params: messageIdParams,
        response: {
          200: messageStatusSchema,
          ...problemResponses,
          404: problemSchema.describe('No message of this tenant has this id'),
        },
      },
    },
    async (request, reply) => {
      const notFound = () => sendProblem(reply, problem(404, 'No message of this tenant has this id.'));
      let described;
      try {
        // Another tenant's message is answered exactly like a message that does not exist, and
        // refused from the memo, before its history or the worker is asked anything.
        described = await describeMessage(options.client, request.params.id, tenantOf(request));
      } catch (err) {
        if (err instanceof UnknownMessageError) return notFound();
        throw err;
      }
      const status = described.status;
      return reply.send({
        ...(outcomeJson(status) as Omit<z.infer<typeof messageStatusSchema>, 'step' | 'metadata' | 'links'>),
        step: status.step,
        metadata: described.metadata,
        links: { self: messageLink(status.messageId) },
      });
    },
  );

  app.get(
    '/v1/messages',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The tenant’s messages, newest first',
        tags: ['messages'],
        security: [{ apiKey: [] }],
        querystring: listQuerySchema,
        response: { 200: listSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.send(await listMessages(options, tenantOf(request), request.query)),
  );
  return Promise.resolve();
};
