// What a POST /v1/messages body means, checked field by field with the same validators the client
// and the worker use (domain/delivery-request.ts), every bad field reported at once. The shapes
// were checked by the zod schema before this runs.
import {
  MAX_NOTICE_CHARS,
  ValidationError,
  validCallbackUrl,
  validRecipient,
  validText,
} from '../domain/delivery-request';
import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_ID_PATTERN,
  MEDIA_TYPE_PATTERN,
} from '../domain/media';
import type { E2eePayload, E2eePolicy, Flow } from '../domain/message';
import { DEFAULT_E2EE_NOTICE } from '../client/e2ee-sealing';
import type { FieldError } from './problem';
import type { MessageInput } from './schemas';

export type MediaInput =
  { kind: 'ref'; mediaId: string } | { kind: 'inline'; data: Buffer; contentType: string; fileName: string };

export interface CheckedMessage {
  to: string;
  region: string;
  /** What may leave unencrypted: the text, or for e2ee "required" the notice. */
  text: string;
  textIsNotice: boolean;
  flow: Flow;
  e2ee: E2eePolicy;
  rcsCopy: boolean;
  e2eePayload: E2eePayload | null;
  media: MediaInput | null;
  statusCallbackUrl: string | null;
  metadata: Record<string, string> | null;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checked<T>(errors: FieldError[], check: () => T): T | undefined {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    errors.push({ field: err.field, detail: err.expected });
    return undefined;
  }
}

function media(input: NonNullable<MessageInput['media']>, e2ee: E2eePolicy): MediaInput {
  if (e2ee === 'required')
    throw new ValidationError(
      'media',
      'not with e2ee required: files cannot travel end-to-end encrypted yet',
    );
  if (input.mediaId !== undefined) {
    if (input.data !== undefined || input.contentType !== undefined || input.fileName !== undefined)
      throw new ValidationError('media', 'either mediaId alone, or data with contentType and fileName');
    if (!MEDIA_ID_PATTERN.test(input.mediaId))
      throw new ValidationError('media.mediaId', 'the id an upload answered');
    return { kind: 'ref', mediaId: input.mediaId };
  }
  if (input.data === undefined || !BASE64.test(input.data))
    throw new ValidationError('media.data', 'the file, base64 (or media.mediaId of an upload)');
  const data = Buffer.from(input.data, 'base64');
  if (data.length === 0 || data.length > MAX_MEDIA_BYTES)
    throw new ValidationError(
      'media',
      `a file of 1 byte to ${MAX_MEDIA_BYTES / 1024} KiB (got ${data.length} bytes)`,
    );
  if (input.contentType === undefined || !MEDIA_TYPE_PATTERN.test(input.contentType))
    throw new ValidationError('media.contentType', 'a content type like image/png');
  if (input.fileName === undefined || !MEDIA_FILE_NAME_PATTERN.test(input.fileName))
    throw new ValidationError('media.fileName', 'a file name of 1 to 100 characters, no slashes');
  return { kind: 'inline', data, contentType: input.contentType, fileName: input.fileName };
}

function message(input: MessageInput, e2ee: E2eePolicy): { text: string; textIsNotice: boolean } {
  if (e2ee === 'required') {
    // The plaintext of a "required" message never leaves the app: only the sealed payload and a notice.
    if (input.text !== undefined)
      throw new ValidationError(
        'text',
        'absent with e2ee required: send the sealed e2eePayload and a notice',
      );
    return {
      text: validText(input.notice ?? DEFAULT_E2EE_NOTICE, 'notice', MAX_NOTICE_CHARS),
      textIsNotice: true,
    };
  }
  if (input.notice !== undefined) throw new ValidationError('notice', 'only with e2ee required');
  return { text: validText(input.text), textIsNotice: false };
}

/** The message, or every field that is wrong with it. */
export function checkMessage(input: MessageInput): { ok: CheckedMessage } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const flow = input.flow ?? 'standard';
  const e2ee = input.e2ee ?? 'preferred';
  const recipient = checked(errors, () => validRecipient(input.to));
  const body = checked(errors, () => message(input, e2ee));
  checked(errors, () => {
    if (input.rcsCopy && flow !== 'critical') throw new ValidationError('rcsCopy', 'only with flow critical');
  });
  checked(errors, () => {
    if (input.e2eePayload && e2ee === 'off')
      throw new ValidationError('e2eePayload', 'absent when e2ee is off');
  });
  const file = input.media ? checked(errors, () => media(input.media!, e2ee)) : null;
  const callback =
    input.statusCallbackUrl === undefined
      ? null
      : checked(errors, () => validCallbackUrl(input.statusCallbackUrl));
  if (errors.length || !recipient || !body || file === undefined || callback === undefined) return { errors };
  return {
    ok: {
      ...recipient,
      ...body,
      flow,
      e2ee,
      rcsCopy: !!input.rcsCopy,
      e2eePayload: input.e2eePayload ?? null,
      media: file,
      statusCallbackUrl: callback,
      metadata: input.metadata ?? null,
    },
  };
}
