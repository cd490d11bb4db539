// The REST API's request and response shapes, in zod: the same schemas validate requests
// (fastify-type-provider-zod) and make the OpenAPI document (@fastify/swagger). Shapes only:
// what a field must mean (a served E.164 number, a text that fits ten SMS parts…) is checked by
// the domain validators in api/message-input.ts, so the API, the client and the worker refuse
// alike and with the same words.
import { z } from 'zod';
import {
  MAX_NOTICE_CHARS,
  ValidationError,
  validBase64,
  validCallbackUrl,
  validRecipient,
  validText,
} from '../domain/delivery-request';
import { CHANNELS, E2EE_POLICIES, FLOWS } from '../domain/message';

export const MAX_BATCH = 1000;
export const MAX_METADATA_ENTRIES = 16;
export const MAX_IDEMPOTENCY_KEY_CHARS = 200;

const oneOf = (values: readonly string[]) => ({ error: `one of ${values.join(', ')}` });

/** A string field the domain validator checks, so zod reports it beside every other bad field. */
const checkedString = (check: (value: string) => unknown) =>
  z.string().superRefine((value, ctx) => {
    try {
      check(value);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.expected });
    }
  });

export const metadataSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, { error: 'keys of 1 to 40 letters, digits, "_", "." or "-"' }),
    z.string().max(256, { error: 'values of at most 256 characters' }),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_ENTRIES, {
    error: `at most ${MAX_METADATA_ENTRIES} entries`,
  })
  .describe('Your own strings, returned with the message; never sent to the recipient.');

export const messageInputSchema = z
  .strictObject({
    to: checkedString(validRecipient).describe('The recipient, E.164 (e.g. +15550100001)'),
    text: checkedString((v) => validText(v))
      .optional()
      .describe(
        'The message (at most 1,530 characters). Absent with e2ee "required": send e2eePayload and notice.',
      ),
    flow: z.enum(FLOWS, oneOf(FLOWS)).optional().describe('Default "standard"'),
    e2ee: z.enum(E2EE_POLICIES, oneOf(E2EE_POLICIES)).optional().describe('Default "preferred"'),
    notice: checkedString((v) => validText(v, 'notice', MAX_NOTICE_CHARS))
      .optional()
      .describe('e2ee "required": what a recipient without E2EE gets'),
    rcsCopy: z.boolean().optional().describe('Critical flow: also send a supplementary RCS copy'),
    media: z
      .strictObject({
        mediaId: z.string().optional().describe('The id POST /v1/media answered'),
        data: z.string().optional().describe('Or the file inline, base64 (at most 512 KiB decoded)'),
        contentType: z.string().optional().describe('With data: its media type, e.g. image/png'),
        fileName: z.string().optional().describe('With data: its file name'),
      })
      .optional()
      .describe('A file delivered behind a secure link: an upload reference, or the file inline'),
    e2eePayload: z
      .strictObject({
        ciphertext: checkedString((v) => validBase64(v, 'e2eePayload.ciphertext')).describe(
          'The MLS message the app sealed, base64',
        ),
        welcome: checkedString((v) => validBase64(v, 'e2eePayload.welcome'))
          .optional()
          .describe('The MLS Welcome for a new group, base64'),
        negotiationMs: z
          .number()
          .min(0)
          .describe('How long the app spent on key negotiation (ms, 0 or more)'),
        newGroup: z.boolean(),
      })
      .optional()
      .describe(
        'Client-managed E2EE: the app sealed the message itself; Switchboard never sees the plaintext',
      ),
    statusCallbackUrl: checkedString(validCallbackUrl)
      .optional()
      .describe('Where status events for this message are POSTed'),
    metadata: metadataSchema.optional(),
  })
  .meta({ id: 'Message' });
export type MessageInput = z.infer<typeof messageInputSchema>;

export const batchItemSchema = messageInputSchema
  .extend({
    idempotencyKey: z.string().optional().describe('Per item, like the Idempotency-Key header'),
  })
  .meta({ id: 'BatchItem' });
export type BatchItem = z.infer<typeof batchItemSchema>;

const linksSchema = z.object({ self: z.string() });

export const acceptedSchema = z
  .object({
    messageId: z.string(),
    /** False when the Idempotency-Key named a message already started. */
    created: z.boolean(),
    encrypted: z.boolean().describe('An app-sealed e2eePayload came with it'),
    links: linksSchema,
  })
  .meta({ id: 'MessageAccepted' });
export type Accepted = z.infer<typeof acceptedSchema>;

export const messageStatusSchema = z
  .object({
    messageId: z.string(),
    workflowId: z.string(),
    status: z.enum(['delivered', 'failed', 'pending']),
    step: z.string(),
    channel: z.enum(CHANNELS).nullable(),
    e2ee: z.boolean(),
    attempts: z.array(
      z.looseObject({ channel: z.string(), result: z.string(), errorCode: z.string().nullable() }),
    ),
    fallbackReason: z.string().nullable(),
    shortlink: z.boolean(),
    timings: z.record(z.string(), z.number().nullable()),
    flow: z.enum(FLOWS),
    configVersion: z.number(),
    authoritative: z.enum(CHANNELS).nullable(),
    pilot: z.looseObject({}).nullable(),
    metadata: z.record(z.string(), z.string()).nullable(),
    links: linksSchema,
  })
  .meta({ id: 'MessageStatus' });

export const messageIdParams = z.object({ id: z.uuid({ error: 'a message id (a UUID)' }) });

export const LIST_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const listQuerySchema = z.object({
  status: z.enum(LIST_STATUSES, oneOf(LIST_STATUSES)).optional(),
  since: z.iso.datetime({ offset: true, error: 'an ISO-8601 time, e.g. 2026-01-31T00:00:00Z' }).optional(),
  cursor: z.string().max(4096).optional().describe('nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(100, { error: 'a whole number from 1 to 100' }).optional(),
});

export const listItemSchema = z.object({
  messageId: z.string(),
  status: z.enum(LIST_STATUSES),
  step: z.string().nullable(),
  channel: z.string().nullable(),
  fallbackReason: z.string().nullable(),
  flow: z.string().nullable(),
  startedAt: z.string().nullable(),
  links: linksSchema,
});
export const listSchema = z
  .object({ messages: z.array(listItemSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'MessageList' });

export const batchInputSchema = z
  .object({ messages: z.array(batchItemSchema).min(1).max(MAX_BATCH) })
  .meta({ id: 'Batch' });
/** What the batch route validates itself: each item is checked on its own, so one bad item refuses only itself. */
export const batchEnvelopeSchema = z.object({
  messages: z
    .array(z.unknown())
    .min(1, { error: `1 to ${MAX_BATCH} messages` })
    .max(MAX_BATCH, {
      error: `1 to ${MAX_BATCH} messages`,
    }),
});

export const mediaUploadedSchema = z
  .object({
    mediaId: z.string(),
    bytes: z.number().int(),
    contentType: z.string(),
    fileName: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: 'MediaUploaded' });
