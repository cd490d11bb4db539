import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ChannelFailureDetails } from '../domain/failures';
import type { FallbackReason } from '../domain/message';

/** What one channel's attempt came to. */
export type StepResult =
  | { delivered: true; deliveredAt: number; latencyMs: number; e2ee?: boolean }
  | { delivered: false; reason: FallbackReason | null; errorCode: string | null; revoked?: boolean };

export type StepFailure = Extract<StepResult, { delivered: false }>;

/** A failed activity's type and code, as the activities' failure mapping set them. */
export function channelFailure(err: unknown): { type: string | null } & ChannelFailureDetails {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as ChannelFailureDetails | undefined;
    return {
      type: cause.type ?? null,
      code: details?.code ?? cause.type ?? 'UNKNOWN',
      retryAfterMs: details?.retryAfterMs ?? null,
    };
  }
  return { type: null, code: 'UNKNOWN', retryAfterMs: null };
}
