import {
  MAX_MEDIA_BYTES,
  MEDIA_FILE_NAME_PATTERN,
  MEDIA_ID_PATTERN,
  MEDIA_TYPE_PATTERN,
} from '../domain/media';
import type { MediaRef } from '../domain/message';
import { MediaRefError } from './failures';

/**
 * The worker's own check of a workflow input's media reference (the client validated it, but a
 * workflow can be started by anything holding the namespace's credentials).
 */
export function checkedMediaRef(value: unknown): MediaRef {
  const ref = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof ref.mediaId !== 'string' || !MEDIA_ID_PATTERN.test(ref.mediaId))
    throw new MediaRefError('mediaId', 'the 24-character id an upload answered');
  if (typeof ref.contentType !== 'string' || !MEDIA_TYPE_PATTERN.test(ref.contentType))
    throw new MediaRefError('contentType', 'a media type like image/png');
  if (typeof ref.fileName !== 'string' || !MEDIA_FILE_NAME_PATTERN.test(ref.fileName))
    throw new MediaRefError('fileName', 'a file name of 1 to 100 characters, no slashes');
  if (
    typeof ref.bytes !== 'number' ||
    !Number.isInteger(ref.bytes) ||
    ref.bytes < 1 ||
    ref.bytes > MAX_MEDIA_BYTES
  )
    throw new MediaRefError('bytes', `an integer from 1 to ${MAX_MEDIA_BYTES}`);
  return { mediaId: ref.mediaId, contentType: ref.contentType, fileName: ref.fileName, bytes: ref.bytes };
}

/** The loaded file, if it is the one the reference describes (as its upload answered). */
export function matchingMedia<T extends Omit<MediaRef, 'mediaId'>>(ref: MediaRef, stored: T): T {
  for (const field of ['contentType', 'fileName', 'bytes'] as const) {
    if (stored[field] !== ref[field])
      throw new MediaRefError(field, 'what the upload answered for this mediaId');
  }
  return stored;
}
