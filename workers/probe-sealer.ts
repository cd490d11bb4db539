import type { MessageSealer } from '../client/e2ee-sealing';
import { lazySealer } from '../client/e2ee-sealing';
import type { KeyPackageSource } from '../e2ee/key-directory';
import { E2eeSender, loadOrCreateSenderIdentity } from '../e2ee/sender';
import { MemorySenderStateStore } from '../e2ee/sender-state-store';

/**
 * The worker as a sending app for the rcs-e2ee probes: an MLS sender of its own that claims
 * the recipient's KeyPackages from the key directory. Its state is kept in memory on purpose: a
 * restarted worker negotiates new groups (its first probe shows the full negotiation time), and
 * no group state outlives a sandbox phone that restarted with new keys.
 */
export function probeSealer(directory: KeyPackageSource): MessageSealer {
  return lazySealer(async () => {
    const store = new MemorySenderStateStore();
    return new E2eeSender({ directory, store, identity: await loadOrCreateSenderIdentity(store) });
  });
}
