import {
  MAX_NOTICE_CHARS,
  ValidationError,
  validE2eePolicy,
  validFlow,
  validRecipient,
  validCallbackUrl,
  validTenant,
  validText,
} from '../domain/delivery-request';
import type { E2eePolicy, Flow } from '../domain/message';
import { MAX_MEDIA_BYTES, MEDIA_FILE_NAME_PATTERN, MEDIA_TYPE_PATTERN } from '../domain/media';

export { MAX_TEXT_CHARS, ValidationError } from '../domain/delivery-request';
const MAX_IDEMPOTENCY_KEY = 200;

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
  /** Where this message's status events go (else the tenant's default webhook, if any). */
  statusCallbackUrl?: string;
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
  statusCallbackUrl: string | null;
}

/** Refuses bad input before any workflow starts; messages name the field, never echo the number. */
export function validateSend(input: SendInput): ValidSend {
  const { to, region } = validRecipient(input.to);
  const text = validText(input.text);
  const flow = validFlow(input.flow ?? 'standard');
  const e2ee = validE2eePolicy(input.e2ee ?? 'preferred');
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
    throw new ValidationError('idempotencyKey', `1 to ${MAX_IDEMPOTENCY_KEY} characters`);
  }
  const tenant = validTenant(input.tenant ?? 'default');
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
  if (input.notice !== undefined) validText(input.notice, 'notice', MAX_NOTICE_CHARS);
  const statusCallbackUrl =
    input.statusCallbackUrl === undefined ? null : validCallbackUrl(input.statusCallbackUrl);
  return {
    to,
    text,
    flow,
    e2ee,
    region,
    tenant,
    idempotencyKey: key,
    rcsCopy: !!input.rcsCopy,
    media,
    statusCallbackUrl,
  };
}
