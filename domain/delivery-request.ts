// One validator for a message, used on both sides of Temporal: the client checks what an app
// asks for before anything starts, and the worker checks every field of the workflow input again,
// because whatever reaches the Temporal frontend may have been written by someone else.
// Errors name the field and what was expected; they never echo a number or a text.

import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_ID_PATTERN,
  MEDIA_TYPE_PATTERN,
  TENANT_PATTERN,
} from './media';
import { E2EE_POLICIES, FLOWS } from './message';
import type { DeliveryRequest, E2eePolicy, Flow } from './message';
import { callingCodeOf, regionFor } from './residency';

/** The longest text we accept: ten concatenated GSM-7 SMS parts, so the SMS fallback can always carry it. */
export const MAX_TEXT_CHARS = 1530;
/** What a `required` message sends when it cannot go encrypted. */
export const MAX_NOTICE_CHARS = 320;
/** An MLS message or Welcome from the app, base64: far above a text's, far below Temporal's limits. */
const MAX_E2EE_BASE64 = 64 * 1024;

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`${field}: ${expected}`);
  }
}

/** An E.164 number of a served region, and that region (residency follows the number). */
export function validRecipient(value: unknown): { to: string; region: string } {
  const to = typeof value === 'string' ? value.trim() : '';
  if (!/^\+[1-9]\d{6,14}$/.test(to) || !parsePhoneNumberFromString(to)?.isPossible()) {
    throw new ValidationError(
      'to',
      'an E.164 number: "+", country code and subscriber number, 7 to 15 digits',
    );
  }
  const region = regionFor(to);
  if (!region) {
    throw new ValidationError(
      'to',
      `a number in a served region (no region serves calling code +${callingCodeOf(to) ?? '?'})`,
    );
  }
  return { to, region };
}

export function validText(value: unknown, field = 'text', max = MAX_TEXT_CHARS): string {
  const text = typeof value === 'string' ? value : '';
  if (text.trim().length === 0) throw new ValidationError(field, 'non-empty text');
  const length = [...text].length;
  if (length > max) throw new ValidationError(field, `at most ${max} characters (got ${length})`);
  return text;
}

export function validFlow(value: unknown): Flow {
  if (!(FLOWS as readonly unknown[]).includes(value))
    throw new ValidationError('flow', `one of ${FLOWS.join(', ')}`);
  return value as Flow;
}

export function validE2eePolicy(value: unknown): E2eePolicy {
  if (!(E2EE_POLICIES as readonly unknown[]).includes(value)) {
    throw new ValidationError('e2ee', `one of ${E2EE_POLICIES.join(', ')}`);
  }
  return value as E2eePolicy;
}

export function validTenant(value: unknown): string {
  if (typeof value !== 'string' || !TENANT_PATTERN.test(value)) {
    throw new ValidationError('tenant', 'lowercase letters, digits and dashes');
  }
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FIELDS = new Set([
  'messageId',
  'to',
  'text',
  'flow',
  'e2ee',
  'tenant',
  'region',
  'submittedAt',
  'rcsCopy',
  'e2eePayload',
  'textIsNotice',
  'media',
  'statusCallbackUrl',
  'synthetic',
]);

/** The longest callback URL we keep (browsers and proxies agree on about 2,000). */
export const MAX_CALLBACK_URL_CHARS = 2000;

/** An absolute http(s) URL without credentials; which hosts may be reached is the sender's check. */
export function validCallbackUrl(value: unknown, field = 'statusCallbackUrl'): string {
  const expected = `an absolute http or https URL of at most ${MAX_CALLBACK_URL_CHARS} characters, without user or password`;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CALLBACK_URL_CHARS)
    throw new ValidationError(field, expected);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(field, expected);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    throw new ValidationError(field, expected);
  return value;
}

function optionalTrue(input: Record<string, unknown>, field: string, allowed: boolean, when: string): void {
  const value = input[field];
  if (value === undefined) return;
  if (value !== true) throw new ValidationError(field, 'true, or absent');
  if (!allowed) throw new ValidationError(field, `only ${when}`);
}

/** A base64 string of 1 to 64 KiB: an app-sealed E2EE part. */
export function validBase64(value: unknown, field: string): void {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_E2EE_BASE64 ||
    !BASE64.test(value)
  ) {
    throw new ValidationError(field, `base64 of 1 to ${MAX_E2EE_BASE64} characters`);
  }
}

function checkE2eePayload(value: unknown, e2ee: E2eePolicy): void {
  if (value === undefined) return;
  if (e2ee === 'off') throw new ValidationError('e2eePayload', 'absent when e2ee is off');
  const payload = (typeof value === 'object' && value !== null ? value : null) as Record<
    string,
    unknown
  > | null;
  if (!payload) throw new ValidationError('e2eePayload', 'an object');
  validBase64(payload.ciphertext, 'e2eePayload.ciphertext');
  if (payload.welcome !== undefined) validBase64(payload.welcome, 'e2eePayload.welcome');
  const ms = payload.negotiationMs;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new ValidationError('e2eePayload.negotiationMs', 'a number of milliseconds, 0 or more');
  }
  if (typeof payload.newGroup !== 'boolean')
    throw new ValidationError('e2eePayload.newGroup', 'true or false');
}

function checkMediaRef(value: unknown, e2ee: E2eePolicy): void {
  if (value === undefined) return;
  if (e2ee === 'required') throw new ValidationError('media', 'absent with e2ee required');
  const ref = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof ref.mediaId !== 'string' || !MEDIA_ID_PATTERN.test(ref.mediaId))
    throw new ValidationError('media.mediaId', 'the id an upload answered');
  if (typeof ref.contentType !== 'string' || !MEDIA_TYPE_PATTERN.test(ref.contentType))
    throw new ValidationError('media.contentType', 'a media type like image/png');
  if (typeof ref.fileName !== 'string' || !MEDIA_FILE_NAME_PATTERN.test(ref.fileName))
    throw new ValidationError('media.fileName', 'a file name of 1 to 100 characters, no slashes');
  const bytes = ref.bytes;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_MEDIA_BYTES)
    throw new ValidationError('media.bytes', `a whole number from 1 to ${MAX_MEDIA_BYTES}`);
}

/**
 * The worker's check of a deliverMessage input, field by field. The region is the number's own:
 * a request that claims another is refused, so a message never leaves through a foreign carrier.
 */
export function validateDeliveryRequest(value: unknown): DeliveryRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('request', 'an object');
  }
  const input = value as Record<string, unknown>;
  const unknown = Object.keys(input).find((key) => !FIELDS.has(key));
  if (unknown !== undefined) throw new ValidationError('request', `only the fields of a DeliveryRequest`);
  if (typeof input.messageId !== 'string' || !UUID.test(input.messageId)) {
    throw new ValidationError('messageId', 'a lowercase RFC 4122 UUID');
  }
  const { region } = validRecipient(input.to);
  if (input.to !== (input.to as string).trim())
    throw new ValidationError('to', 'an E.164 number without spaces');
  if (input.region !== region) throw new ValidationError('region', 'the region of the number itself');
  const flow = validFlow(input.flow);
  const e2ee = validE2eePolicy(input.e2ee);
  validTenant(input.tenant);
  optionalTrue(input, 'textIsNotice', e2ee === 'required', 'with e2ee required');
  if (input.textIsNotice) validText(input.text, 'text', MAX_NOTICE_CHARS);
  else validText(input.text);
  if (typeof input.submittedAt !== 'string' || Number.isNaN(Date.parse(input.submittedAt))) {
    throw new ValidationError('submittedAt', 'an ISO-8601 time');
  }
  optionalTrue(input, 'rcsCopy', flow === 'critical', 'with flow critical');
  checkE2eePayload(input.e2eePayload, e2ee);
  checkMediaRef(input.media, e2ee);
  if (input.statusCallbackUrl !== undefined) validCallbackUrl(input.statusCallbackUrl);
  optionalTrue(input, 'synthetic', true, '');
  return input as unknown as DeliveryRequest;
}
