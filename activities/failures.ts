import { ApplicationFailure } from '@temporalio/common';
import { RcsPermanentError, RcsTransientError } from '../channels/rcs/errors';
import { SmsPermanentError, SmsTransientError } from '../channels/sms/errors';
import { RegionUnservedError } from '../channels/region-errors';
import { EscrowPolicyError } from '../e2ee/escrow-archive';
import { MediaObjectNotFoundError } from '../store/media-objects';

/** Failure types the workflow and its retry policies name. */
export const FailureType = {
  RcsTransient: 'RcsTransientError',
  RcsPermanent: 'RcsPermanentError',
  SmsTransient: 'SmsTransientError',
  SmsPermanent: 'SmsPermanentError',
  RegionUnserved: 'RegionUnservedError',
  EscrowPolicy: 'EscrowPolicyError',
  MediaNotFound: 'MediaNotFoundError',
  MediaRef: 'MediaRefError',
} as const;

/** A message's media reference is malformed, or does not describe the stored file. */
export class MediaRefError extends Error {
  override readonly name = 'MediaRefError';
  constructor(
    readonly field: string,
    expected: string,
  ) {
    super(`media.${field}: ${expected}`);
  }
}

export interface ChannelFailureDetails {
  code: string;
  retryAfterMs: number | null;
}

/**
 * Turns an adapter's typed error into an ApplicationFailure whose type the workflow can act on.
 * Messages come from the adapters' own errors, which never carry a number or message text.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof RcsTransientError) {
    return failure(FailureType.RcsTransient, err.message, false, {
      code: err.code,
      retryAfterMs: err.retryAfterMs,
    });
  }
  if (err instanceof RcsPermanentError) {
    return failure(FailureType.RcsPermanent, err.message, true, { code: err.code, retryAfterMs: null });
  }
  if (err instanceof SmsTransientError) {
    return failure(FailureType.SmsTransient, err.message, false, { code: err.code, retryAfterMs: null });
  }
  if (err instanceof SmsPermanentError) {
    return failure(FailureType.SmsPermanent, err.message, true, { code: err.code, retryAfterMs: null });
  }
  if (err instanceof RegionUnservedError) {
    return failure(FailureType.RegionUnserved, err.message, true, {
      code: 'REGION_UNSERVED',
      retryAfterMs: null,
    });
  }
  if (err instanceof EscrowPolicyError) {
    // Sending would put a message beyond the tenant's escrow: never retried, never sent.
    return failure(FailureType.EscrowPolicy, err.message, true, { code: err.code, retryAfterMs: null });
  }
  if (err instanceof MediaObjectNotFoundError) {
    // Unknown, expired or another tenant's upload: asking again cannot make it appear.
    return failure(FailureType.MediaNotFound, err.message, true, {
      code: 'MEDIA_NOT_FOUND',
      retryAfterMs: null,
    });
  }
  if (err instanceof MediaRefError) {
    return failure(FailureType.MediaRef, err.message, true, {
      code: 'MEDIA_REF_INVALID',
      retryAfterMs: null,
    });
  }
  return err;
}

function failure(type: string, message: string, nonRetryable: boolean, details: ChannelFailureDetails) {
  return ApplicationFailure.create({ type, message, nonRetryable, details: [details] });
}

export async function mappingFailures<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}
