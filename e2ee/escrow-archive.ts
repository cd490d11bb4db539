// The escrow archive's gatekeeper. For an escrowed tenant every encrypted message is archived
// (Welcome of its group + ciphertext) BEFORE it is sent, and a message that the escrow member
// could not read is refused instead of sent: a group whose Welcome does not name the tenant's
// escrow member, or a later message of a group whose Welcome was never archived. So "escrowed"
// means every message that left, not every message the app chose to escrow.
//
// What it can check is that the Welcome is addressed to the escrow member; it cannot check that
// the Welcome's secrets really open the message's group (only the escrow key could). So it keeps
// honest but misconfigured apps (an app that never learned of the escrow) from sending around
// the escrow; an app that sets out to deceive it can. The tenant is the one the request names.

import { FailureType } from '../domain/failures';

import type { EscrowRecord, EscrowedMessage } from './escrow';
import { isE2eeError, keyPackageRef, messageGroupId, welcomeRecipients } from './mls';

export interface ArchivedEscrowMessage {
  messageId: string;
  escrowId: string;
  tenant: string;
  /** Hex, from the ciphertext's clear MLS header. */
  groupId: string;
  ciphertext: Uint8Array;
  welcome: Uint8Array | null;
}

export interface EscrowArchiveStore {
  activeEscrow(tenant: string): Promise<EscrowRecord | null>;
  byId(escrowId: string): Promise<EscrowRecord | null>;
  hasWelcome(escrowId: string, groupId: string): Promise<boolean>;
  archive(message: ArchivedEscrowMessage): Promise<void>;
  archived(escrowId: string, messageIds: readonly string[]): Promise<EscrowedMessage[]>;
  escrowsHolding(tenant: string, messageIds: readonly string[]): Promise<string[]>;
}

export type EscrowPolicyCode =
  'ESCROW_MEMBER_MISSING' | 'ESCROW_WELCOME_MISSING' | 'ESCROW_MALFORMED_MESSAGE';

/** An escrowed tenant's message the escrow could not open: it must not be sent. No number, no text. */
export class EscrowPolicyError extends Error {
  override readonly name = FailureType.EscrowPolicy;
  constructor(readonly code: EscrowPolicyCode) {
    super(`escrow policy: ${code}`);
  }
}

export class EscrowArchiver {
  private readonly refs = new Map<string, Promise<Set<string>>>();

  constructor(private readonly store: EscrowArchiveStore) {}

  /**
   * Archives an encrypted message of `tenant` if the tenant is escrowed (returns its escrow id),
   * or does nothing (null). Throws EscrowPolicyError when the escrow member could not read it.
   */
  async archive(input: {
    tenant: string;
    messageId: string;
    ciphertext: Uint8Array;
    welcome: Uint8Array | null;
  }): Promise<string | null> {
    const escrow = await this.store.activeEscrow(input.tenant);
    if (!escrow) return null;
    let groupId: string;
    let recipients: string[] | null = null;
    try {
      groupId = messageGroupId(input.ciphertext);
      if (input.welcome) recipients = welcomeRecipients(input.welcome);
    } catch (err) {
      if (isE2eeError(err)) throw new EscrowPolicyError('ESCROW_MALFORMED_MESSAGE');
      throw err;
    }
    if (recipients) {
      const escrowRefs = await this.refsOf(escrow);
      if (!recipients.some((r) => escrowRefs.has(r))) throw new EscrowPolicyError('ESCROW_MEMBER_MISSING');
    } else if (!(await this.store.hasWelcome(escrow.escrowId, groupId))) {
      throw new EscrowPolicyError('ESCROW_WELCOME_MISSING');
    }
    await this.store.archive({
      messageId: input.messageId,
      escrowId: escrow.escrowId,
      tenant: input.tenant,
      groupId,
      ciphertext: input.ciphertext,
      welcome: input.welcome,
    });
    return escrow.escrowId;
  }

  private refsOf(escrow: EscrowRecord): Promise<Set<string>> {
    let refs = this.refs.get(escrow.escrowId);
    if (!refs) {
      refs = Promise.all(escrow.keyPackages.map((k) => keyPackageRef(k))).then((r) => new Set(r));
      void refs.catch(() => this.refs.delete(escrow.escrowId));
      this.refs.set(escrow.escrowId, refs);
    }
    return refs;
  }
}
