import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { E2EE_POLICIES, FLOWS } from '../domain/message';
import type { E2eePolicy, Flow } from '../domain/message';
import { callingCodeOf, regionFor } from '../domain/residency';
import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_TYPE_PATTERN,
  TENANT_PATTERN,
} from '../domain/media';

/** The longest text we accept: ten concatenated GSM-7 SMS parts, so the SMS fallback can always carry it. */
export const MAX_TEXT_CHARS = 1530;
const MAX_IDEMPOTENCY_KEY = 200;

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`${field}: ${expected}`);
  }
}

export interface SendInput {
  to: string;
  text: string;
  flow?: string;
  e2ee?: string;
  idempotencyKey?: string;
  tenant?: string;
  /** Critical flow: also send a supplementary RCS copy. */
  rcsCopy?: boolean;
  /** e2ee=required: what the recipient gets when the message cannot go end-to-end encrypted. */
  notice?: string;
  /** A file for the recipient, delivered behind a secure shortlink. */
  media?: { data: Uint8Array; contentType: string; fileName: string };
}

export interface ValidSend {
  to: string;
  text: string;
  flow: Flow;
  e2ee: E2eePolicy;
  region: string;
  tenant: string;
  idempotencyKey: string | null;
  rcsCopy: boolean;
  media: { data: Uint8Array; contentType: string; fileName: string } | null;
}

/** Refuses bad input before any workflow starts; messages name the field, never echo the number. */
export function validateSend(input: SendInput): ValidSend {
  const to = typeof input.to === 'string' ? input.to.trim() : '';
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
  const text = typeof input.text === 'string' ? input.text : '';
  if (text.trim().length === 0) throw new ValidationError('text', 'non-empty text');
  if ([...text].length > MAX_TEXT_CHARS) {
    throw new ValidationError('text', `at most ${MAX_TEXT_CHARS} characters (got ${[...text].length})`);
  }
  const flow = input.flow ?? 'standard';
  if (!(FLOWS as readonly string[]).includes(flow))
    throw new ValidationError('flow', `one of ${FLOWS.join(', ')}`);
  const e2ee = input.e2ee ?? 'preferred';
  if (!(E2EE_POLICIES as readonly string[]).includes(e2ee)) {
    throw new ValidationError('e2ee', `one of ${E2EE_POLICIES.join(', ')}`);
  }
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
    throw new ValidationError('idempotencyKey', `1 to ${MAX_IDEMPOTENCY_KEY} characters`);
  }
  const tenant = input.tenant ?? 'default';
  if (!TENANT_PATTERN.test(tenant))
    throw new ValidationError('tenant', 'lowercase letters, digits and dashes');
  if (input.rcsCopy && flow !== 'critical') throw new ValidationError('rcsCopy', 'only with flow critical');
  const media = input.media ?? null;
  if (media) {
    if (media.data.length === 0 || media.data.length > MAX_MEDIA_BYTES) {
      throw new ValidationError(
        'media',
        `a file of 1 byte to ${MAX_MEDIA_BYTES / 1024} KiB (got ${media.data.length} bytes)`,
      );
    }
    if (!MEDIA_TYPE_PATTERN.test(media.contentType))
      throw new ValidationError('media', 'a content type like image/png');
    if (!MEDIA_FILE_NAME_PATTERN.test(media.fileName))
      throw new ValidationError('media', 'a file name of 1 to 100 characters, no slashes');
    if (input.e2ee === 'required') {
      throw new ValidationError(
        'media',
        'not with e2ee required: files cannot travel end-to-end encrypted yet',
      );
    }
  }
  if (input.notice !== undefined && (input.notice.trim().length === 0 || [...input.notice].length > 320)) {
    throw new ValidationError('notice', '1 to 320 characters');
  }
  return {
    to,
    text,
    flow: flow as Flow,
    e2ee: e2ee as E2eePolicy,
    region,
    tenant,
    idempotencyKey: key,
    rcsCopy: !!input.rcsCopy,
    media,
  };
}
