// Typed E2EE errors. Their messages and codes are safe for security logs: they never carry a
// number, a key, a plaintext or the text of an underlying library error (which could echo
// bytes). The underlying error's class name is kept in `detail` for diagnosis.

export const KEY_NEGOTIATION_CODES = [
  /** The directory had no KeyPackage for any device of the number. */
  'NO_KEY_PACKAGES',
  /** A KeyPackage did not decode, is for another cipher suite, or its signature is invalid. */
  'BAD_KEY_PACKAGE',
  /** Creating the group or the commit that adds the devices failed. */
  'GROUP_SETUP_FAILED',
  /** The Welcome did not decode, or joining from it failed. */
  'WELCOME_REJECTED',
  /** The Welcome names none of this device's KeyPackages (already used, or not ours). */
  'NOT_IN_WELCOME',
  /** A persisted group state or identity could not be decoded. */
  'STATE_CORRUPT',
] as const;
export type KeyNegotiationCode = (typeof KEY_NEGOTIATION_CODES)[number];

export const DECRYPT_CODES = [
  /** Authentication of the ciphertext failed (tampered, wrong keys, or forced in the sandbox). */
  'DECRYPT_FAILED',
  /** The sender is more than maximumForwardRatchetSteps generations ahead: a resync is needed. */
  'GENERATION_TOO_FAR',
  /** The generation was already consumed (a replay, or a sender that reused a generation). */
  'GENERATION_REUSED',
  /** The bytes are not an MLS PrivateMessage. */
  'MALFORMED_MESSAGE',
  /** No group state for the message's group id: the Welcome never arrived. */
  'UNKNOWN_GROUP',
  /** The message is from an epoch this member no longer (or never) had keys for. */
  'EPOCH_MISMATCH',
  /** The message decrypted but is a handshake message, not application data. */
  'NOT_APPLICATION_MESSAGE',
] as const;
export type DecryptCode = (typeof DECRYPT_CODES)[number];

export type E2eeErrorCode = KeyNegotiationCode | DecryptCode;

function detailOf(cause: unknown): string | undefined {
  if (cause instanceof Error) return cause.name === 'Error' ? cause.constructor.name : cause.name;
  return cause === undefined ? undefined : typeof cause;
}

export class E2eeKeyNegotiationError extends Error {
  override readonly name = 'E2eeKeyNegotiationError';
  readonly kind = 'key-negotiation' as const;
  /** Class name of the underlying error, if any; never its message. */
  readonly detail: string | undefined;
  constructor(
    readonly code: KeyNegotiationCode,
    cause?: unknown,
  ) {
    super(`e2ee key negotiation failed: ${code}`);
    this.detail = detailOf(cause);
  }
}

export class E2eeDecryptError extends Error {
  override readonly name = 'E2eeDecryptError';
  readonly kind = 'decrypt' as const;
  readonly detail: string | undefined;
  constructor(
    readonly code: DecryptCode,
    cause?: unknown,
  ) {
    super(`e2ee decrypt failed: ${code}`);
    this.detail = detailOf(cause);
  }
}

export type E2eeError = E2eeKeyNegotiationError | E2eeDecryptError;

export function isE2eeError(err: unknown): err is E2eeError {
  return err instanceof E2eeKeyNegotiationError || err instanceof E2eeDecryptError;
}
