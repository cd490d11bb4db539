// RFC 9457 problem details: every refusal of the REST API is one of these, served as
// application/problem+json. `errors` names each bad field and what was expected; a detail never
// echoes a value (it could be a number or a text).
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const fieldErrorSchema = z.object({
  field: z.string().describe('The field, header or parameter, as a dotted path (e.g. "media.mediaId").'),
  detail: z.string().describe('What was expected.'),
});

export const problemSchema = z
  .object({
    type: z.string().describe('A URI naming the kind of problem.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem' });

export type FieldError = z.infer<typeof fieldErrorSchema>;
export type Problem = z.infer<typeof problemSchema>;

const KINDS = {
  400: ['invalid-request', 'The request is invalid'],
  401: ['unauthenticated', 'A valid API key is required'],
  403: ['forbidden', 'The API key lacks a scope'],
  404: ['not-found', 'Not found'],
  413: ['payload-too-large', 'The request body is too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['idempotency-key-reused', 'The Idempotency-Key was used with another body'],
  429: ['rate-limited', 'Too many requests'],
  500: ['internal', 'Internal error'],
  503: ['unavailable', 'Temporarily unavailable'],
} as const;
export type ProblemStatus = keyof typeof KINDS;

export function problem(status: ProblemStatus, detail: string, errors?: FieldError[]): Problem {
  const [slug, title] = KINDS[status];
  return { type: `urn:switchboard:problem:${slug}`, title, status, detail, ...(errors ? { errors } : {}) };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** The responses every authenticated route may give, for the OpenAPI document. */
export const problemResponses = {
  400: problemSchema.describe('Invalid request: `errors` names each field'),
  401: problemSchema.describe('Missing, unknown or revoked API key'),
  403: problemSchema.describe('The key lacks the scope this route needs'),
  429: problemSchema.describe('Rate limited per tenant; see Retry-After'),
};

interface Issue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  keys?: readonly string[];
}

/** Zod's issues as field errors: the dotted path, and what was expected. */
export function fieldErrorsOf(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): FieldError[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path].map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys)
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), detail: 'no such field' }));
    return [{ field: path.join('.') || 'body', detail: issue.message }];
  });
}
