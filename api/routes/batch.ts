// POST /v1/messages:batch — up to 1,000 messages, each checked, refused or started on its own.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from 'pino';
import { errorCause } from '../../workers/receipts-server';
import { tenantOf } from '../auth';
import type { ItemBudget } from '../item-budget';
import type { MessageStarter, StartResult } from '../message-starter';
import { fieldErrorsOf, problem, problemResponses, problemSchema } from '../problem';
import { acceptedSchema, batchEnvelopeSchema, batchInputSchema, batchItemSchema } from '../schemas';

export const BATCH_BODY_LIMIT = 4 * 1024 * 1024;
/** Starts in flight at once: enough to fill the Temporal frontend, not to flood it. */
const CONCURRENCY = 16;

const itemResultSchema = z.object({
  index: z.number().int(),
  status: z.number().int().describe('202 started, 200 idempotent replay, 400 or 422 refused'),
  message: acceptedSchema.optional(),
  problem: problemSchema.optional(),
});
const batchResultSchema = z
  .object({ accepted: z.number().int(), refused: z.number().int(), results: z.array(itemResultSchema) })
  .meta({ id: 'BatchResult' });
type ItemResult = z.infer<typeof itemResultSchema>;

function itemResult(index: number, result: StartResult): ItemResult {
  if ('problem' in result) return { index, status: result.problem.status, problem: result.problem };
  return { index, status: result.accepted.created ? 202 : 200, message: result.accepted };
}

export const batchRoutes: FastifyPluginAsyncZod<{
  starter: MessageStarter;
  items: ItemBudget;
  logger: Logger;
}> = (app, options) => {
  app.post(
    '/v1/messages::batch',
    {
      config: { scope: 'send' },
      bodyLimit: BATCH_BODY_LIMIT,
      // The document shows each item's schema; the route checks only the envelope, so one bad
      // item is reported in its own result instead of refusing the whole batch.
      validatorCompiler: () => (data) => {
        const parsed = batchEnvelopeSchema.safeParse(data);
        return parsed.success ? { value: parsed.data } : { error: parsed.error };
      },
      schema: {
        summary: 'Send up to 1,000 messages; a result per item',
        tags: ['messages'],
        security: [{ apiKey: [] }],
        body: batchInputSchema,
        response: {
          200: batchResultSchema,
          ...problemResponses,
          413: problemSchema.describe('The body is over 4 MiB'),
          429: problemSchema.describe(
            'Over the tenant’s requests, or its messages (each item counts), per window',
          ),
        },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const items = (request.body as { messages: unknown[] }).messages;
      if (!options.items.take(tenant, items.length, reply)) return reply;
      const results: ItemResult[] = new Array<ItemResult>(items.length);
      let next = 0;
      const worker = async () => {
        for (let index = next++; index < items.length; index = next++) {
          const parsed = batchItemSchema.safeParse(items[index]);
          if (!parsed.success) {
            results[index] = itemResult(index, {
              problem: problem(
                400,
                'The message was refused; nothing was started.',
                fieldErrorsOf(parsed.error.issues),
              ),
            });
            continue;
          }
          const { idempotencyKey, ...message } = parsed.data;
          try {
            const started = await options.starter.start(tenant, message, idempotencyKey ?? null);
            results[index] = itemResult(index, started);
          } catch (err) {
            // One item's failure (Temporal or PostgreSQL away) is its own result; the others stand.
            options.logger.error({ cause: errorCause(err) }, 'batch item failed');
            results[index] = itemResult(index, { problem: problem(503, 'Not started; retry this item.') });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
      const accepted = results.filter((r) => r.status < 300).length;
      return reply.send({ accepted, refused: results.length - accepted, results });
    },
  );
  return Promise.resolve();
};
