import type { EscrowArchive } from './deps';
import { mappingFailures } from './failures';

export interface EscrowArchiveInput {
  tenant: string;
  messageId: string;
  /** base64 MLS PrivateMessage, and the group's Welcome for its first message. */
  ciphertext: string;
  welcome?: string;
}

/** An escrowed tenant's encrypted message is archived before it can leave, or not sent at all. */
export function createEscrowActivities(deps: { escrowArchive: EscrowArchive }) {
  return {
    /** Throws EscrowPolicyError (non-retryable) for a message the escrow could not open. */
    async archiveForEscrow(input: EscrowArchiveInput): Promise<void> {
      await mappingFailures(() =>
        deps.escrowArchive.archive({
          tenant: input.tenant,
          messageId: input.messageId,
          ciphertext: Buffer.from(input.ciphertext, 'base64'),
          welcome: input.welcome ? Buffer.from(input.welcome, 'base64') : null,
        }),
      );
    },
  };
}
