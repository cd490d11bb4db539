import type { E2eePayload, E2eePolicy } from '../domain/message';

/** What the client needs of an MLS sender (e2ee/sender.ts's E2eeSender fits). */
export interface MessageSealer {
  /** `tenant`: whose message; an escrowed tenant's sender adds its escrow member to new groups. */
  encryptFor(
    msisdn: string,
    plaintext: Uint8Array,
    tenant?: string,
  ): Promise<{
    ciphertext: Uint8Array;
    welcome: Uint8Array | null;
    negotiationMs: number;
    newGroup: boolean;
  }>;
}

export const DEFAULT_E2EE_NOTICE = 'You have a new end-to-end encrypted message. Open the app to read it.';

export interface Sealed {
  /** What may leave the app unencrypted: the text (preferred, off) or the notice (required). */
  text: string;
  textIsNotice: boolean;
  payload: E2eePayload | null;
  /** Why there is no ciphertext, for the sender (a key-negotiation error code), or null. */
  negotiationError: string | null;
}

/**
 * Client-managed keys: the plaintext is encrypted here, in the sending app, and for `required`
 * it never leaves the app otherwise — Switchboard only ever receives ciphertext and a notice.
 */
export async function sealForRecipient(
  sealer: MessageSealer | null,
  to: string,
  text: string,
  policy: E2eePolicy,
  notice: string = DEFAULT_E2EE_NOTICE,
  tenant?: string,
): Promise<Sealed> {
  const fallback =
    policy === 'required' ? { text: notice, textIsNotice: true } : { text, textIsNotice: false };
  if (policy === 'off' || !sealer)
    return { ...fallback, payload: null, negotiationError: sealer ? null : 'NO_SENDER' };
  try {
    const sealed = await sealer.encryptFor(to, Buffer.from(JSON.stringify({ v: 1, text }), 'utf8'), tenant);
    return {
      ...fallback,
      payload: {
        ciphertext: Buffer.from(sealed.ciphertext).toString('base64'),
        ...(sealed.welcome ? { welcome: Buffer.from(sealed.welcome).toString('base64') } : {}),
        negotiationMs: sealed.negotiationMs,
        newGroup: sealed.newGroup,
      },
      negotiationError: null,
    };
  } catch (err) {
    // No key packages (not an E2EE recipient) or a failed negotiation: policy decides what goes.
    const code = (err as { code?: unknown }).code;
    return {
      ...fallback,
      payload: null,
      negotiationError: typeof code === 'string' ? code : 'NEGOTIATION_FAILED',
    };
  }
}

/** Builds the real sealer on first use, so a client that never asks for E2EE opens nothing. */
export function lazySealer(build: () => Promise<MessageSealer>): MessageSealer {
  let sealer: Promise<MessageSealer> | null = null;
  return {
    encryptFor(msisdn, plaintext, tenant) {
      sealer ??= build();
      return sealer.then((s) => s.encryptFor(msisdn, plaintext, tenant));
    },
  };
}
