import { ApplicationFailure } from '@temporalio/common';
import { RcsPermanentError, RcsTransientError } from '../channels/rcs/errors';
import { SmsPermanentError, SmsTransientError } from '../channels/sms/errors';
import { RegionUnservedError } from '../channels/region-errors';
import { EscrowPolicyError } from '../e2ee/escrow-archive';
import { MediaObjectNotFoundError } from '../store/media-objects';
import { FailureType } from '../domain/failures';
import type { ChannelFailureDetails, FailureTypeName } from '../domain/failures';

/** A message's media reference is malformed, or does not describe the stored file. */
export class MediaRefError extends Error {
  override readonly name = FailureType.MediaRef;
  constructor(
    readonly field: string,
    expected: string,
  ) {
    super(`media.${field}: ${expected}`);
  }
}

/**
 * Turns an adapter's typed error into an ApplicationFailure whose type the workflow can act on,
 * with `nonRetryable` explicit. Messages come from the adapters' own errors, which never carry a
 * number or message text. Anything else passes through untouched (Temporal retries it).
 */
export function toApplicationFailure(err: unknown): unknown {
  if (err instanceof RcsTransientError) {
    return failure(FailureType.RcsTransient, err.message, false, err.code, err.retryAfterMs);
  }
  if (err instanceof RcsPermanentError) return failure(FailureType.RcsPermanent, err.message, true, err.code);
  if (err instanceof SmsTransientError)
    return failure(FailureType.SmsTransient, err.message, false, err.code);
  if (err instanceof SmsPermanentError) return failure(FailureType.SmsPermanent, err.message, true, err.code);
  if (err instanceof RegionUnservedError) {
    return failure(FailureType.RegionUnserved, err.message, true, 'REGION_UNSERVED');
  }
  // Sending would put a message beyond the tenant's escrow: never retried, never sent.
  if (err instanceof EscrowPolicyError) return failure(FailureType.EscrowPolicy, err.message, true, err.code);
  // Unknown, expired or another tenant's upload: asking again cannot make it appear.
  if (err instanceof MediaObjectNotFoundError) {
    return failure(FailureType.MediaNotFound, err.message, true, 'MEDIA_NOT_FOUND');
  }
  if (err instanceof MediaRefError)
    return failure(FailureType.MediaRef, err.message, true, 'MEDIA_REF_INVALID');
  return err;
}

function failure(
  type: FailureTypeName,
  message: string,
  nonRetryable: boolean,
  code: string,
  retryAfterMs: number | null = null,
) {
  const details: ChannelFailureDetails = { code, retryAfterMs };
  return ApplicationFailure.create({ type, message, nonRetryable, details: [details] });
}

export async function mappingFailures<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}
