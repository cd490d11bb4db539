// RBM webhook POSTs: the Pub/Sub-style push envelope, its X-Goog-Signature, and the one-off
// handshake RBM sends when the webhook is configured.
//
// Per Google's RBM webhook guide: X-Goog-Signature = base64(HMAC-SHA512(clientToken, bytes)),
// where bytes are the base64-DECODED `message.data`, not the raw HTTP body. The envelope's other
// fields (messageId, publishTime, subscription) are therefore not authenticated, and nothing
// here trusts them. On configuration RBM posts {clientToken, secret}; the webhook answers 200
// with the secret as plain text when the clientToken is its own.

import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { RcsWebhookSignatureError } from './errors';
import type { RcsEvent, RcsEventType } from './types';

export const RBM_SIGNATURE_HEADER = 'x-goog-signature';

export interface RbmPushEnvelope {
  message: { data: string; messageId: string; publishTime: string };
  subscription: string;
}

export type RbmWebhookPost =
  /** Answer 200 with `secret` as a text/plain body. */
  | { kind: 'handshake'; secret: string }
  | { kind: 'event'; event: RcsEvent }
  /** Signed and genuine, but not a receipt Switchboard acts on (a user's reply, a new event type): answer 200 so RBM stops retrying. */
  | { kind: 'ignored'; reason: string };

const EVENT_TYPES: ReadonlySet<string> = new Set<RcsEventType>([
  'DELIVERED',
  'READ',
  'IS_TYPING',
  'TTL_EXPIRATION_REVOKED',
  'E2EE_DECRYPT_FAILED',
]);

/**
 * An event's `errorCode` (our extension, on E2EE_DECRYPT_FAILED) is kept only when it looks like
 * a code: it reaches logs, audit rows and workflow outcomes, so free text is dropped.
 */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** What RBM would post for `event`: the body to send and its X-Goog-Signature value. */
export function signRbmEventBody(
  event: RcsEvent | Record<string, unknown>,
  clientToken: string,
  subscription = 'projects/rbm-sandbox/subscriptions/rbm-agent-subscription',
): { body: string; signature: string } {
  const bytes = Buffer.from(JSON.stringify(event), 'utf8');
  const envelope: RbmPushEnvelope = {
    message: {
      data: bytes.toString('base64'),
      messageId: randomUUID(),
      publishTime: new Date().toISOString(),
    },
    subscription,
  };
  return { body: JSON.stringify(envelope), signature: hmac(clientToken, bytes).toString('base64') };
}

/** The handshake body RBM posts when the webhook is configured. */
export function rbmHandshakeBody(clientToken: string, secret: string): string {
  return JSON.stringify({ clientToken, secret });
}

/** Verifies a push and returns its receipt event; anything else, genuine or not, throws. */
export function verifyAndDecodeRbmEvent(
  rawBody: string | Buffer,
  signatureHeader: string | string[] | undefined,
  clientToken: string,
): RcsEvent {
  const payload = verifySignedPayload(parseBody(rawBody), signatureHeader, clientToken);
  const event = toRcsEvent(payload);
  if (!event) throw new RcsWebhookSignatureError('not a receipt event');
  return event;
}

/**
 * Everything a webhook route needs: the configuration handshake, a verified receipt, or a
 * genuine post to acknowledge and drop. Throws RcsWebhookSignatureError (answer 401) otherwise.
 */
export function processRbmWebhookPost(
  rawBody: string | Buffer,
  signatureHeader: string | string[] | undefined,
  clientToken: string,
): RbmWebhookPost {
  const body = parseBody(rawBody);
  if (typeof body.secret === 'string' && body.message === undefined) {
    if (typeof body.clientToken !== 'string' || !sameSecret(body.clientToken, clientToken)) {
      throw new RcsWebhookSignatureError('handshake client token mismatch');
    }
    return { kind: 'handshake', secret: body.secret };
  }
  const payload = verifySignedPayload(body, signatureHeader, clientToken);
  const event = toRcsEvent(payload);
  if (event) return { kind: 'event', event };
  const isUserMessage = typeof payload === 'object' && payload !== null && !('eventType' in payload);
  return { kind: 'ignored', reason: isUserMessage ? 'user message' : 'unsupported event type' };
}

function hmac(clientToken: string, bytes: Buffer): Buffer {
  return createHmac('sha512', clientToken).update(bytes).digest();
}

/** Compares digests, so neither the length nor a prefix of the secret leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function parseBody(rawBody: string | Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    throw new RcsWebhookSignatureError('malformed body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RcsWebhookSignatureError('malformed body');
  }
  return parsed as Record<string, unknown>;
}

function verifySignedPayload(
  body: Record<string, unknown>,
  signatureHeader: string | string[] | undefined,
  clientToken: string,
): unknown {
  const data = (body.message as { data?: unknown } | undefined)?.data;
  if (typeof data !== 'string' || data === '') throw new RcsWebhookSignatureError('malformed body');
  const header = Array.isArray(signatureHeader) ? signatureHeader[0] : signatureHeader;
  if (!header) throw new RcsWebhookSignatureError('missing signature');
  const bytes = Buffer.from(data, 'base64');
  const expected = hmac(clientToken, bytes);
  const given = Buffer.from(header.trim(), 'base64');
  // timingSafeEqual throws on unequal lengths; a wrong length is simply a wrong signature.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new RcsWebhookSignatureError('bad signature');
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new RcsWebhookSignatureError('malformed event');
  }
}

function toRcsEvent(payload: unknown): RcsEvent | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  const fields = ['agentId', 'senderPhoneNumber', 'eventType', 'eventId', 'messageId', 'sendTime'] as const;
  if (!fields.every((f) => typeof p[f] === 'string')) return null;
  if (!EVENT_TYPES.has(p.eventType as string)) return null;
  return {
    agentId: p.agentId as string,
    senderPhoneNumber: p.senderPhoneNumber as string,
    eventType: p.eventType as RcsEventType,
    eventId: p.eventId as string,
    messageId: p.messageId as string,
    sendTime: p.sendTime as string,
    ...(typeof p.errorCode === 'string' && ERROR_CODE.test(p.errorCode) ? { errorCode: p.errorCode } : {}),
  };
}
