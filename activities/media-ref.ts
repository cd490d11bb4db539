import type { MediaRef } from '../domain/message';
import { MediaRefError } from './failures';

/**
 * The loaded file, if it is the one the reference describes (as its upload answered). The
 * reference's shape was checked with the whole request in prepareDelivery.
 */
export function matchingMedia<T extends Omit<MediaRef, 'mediaId'>>(ref: MediaRef, stored: T): T {
  for (const field of ['contentType', 'fileName', 'bytes'] as const) {
    if (stored[field] !== ref[field])
      throw new MediaRefError(field, 'what the upload answered for this mediaId');
  }
  return stored;
}
