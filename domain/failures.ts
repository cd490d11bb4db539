// The failure types of the delivery path, named once. Adapters' errors carry them as their
// `name`, activities turn them into ApplicationFailure types, and the workflow's retry policies
// and decisions name the same constants.

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

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** What a delivery failure tells the workflow beyond its type. */
export interface ChannelFailureDetails {
  code: string;
  retryAfterMs: number | null;
}
