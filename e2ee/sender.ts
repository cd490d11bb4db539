// The sending app's side of client-managed E2EE. One MLS group per (sender identity, recipient
// number), reused across messages: the first message claims the recipient's KeyPackages, creates
// the group, adds every device (and the tenant's escrow member, if any) in one commit and carries
// the Welcome; later messages only encrypt. The new group state is persisted BEFORE the
// ciphertext is returned, so a crash after encrypting can never lead to a generation being used
// twice: a ciphertext that was never returned used a generation nobody saw.
//
// Calls for the same recipient are serialised within one E2eeSender; a store must not be shared
// by two live senders (two processes would each advance their own copy of the state).

import { performance } from 'node:perf_hooks';
import { pack, unpack } from './bytes';
import type { KeyPackageSource } from './key-directory';
import {
  createGroupWith,
  decodeGroup,
  decodeIdentity,
  describeGroup,
  E2eeKeyNegotiationError,
  encodeGroup,
  encodeIdentity,
  encrypt,
  generateIdentity,
  parseKeyPackage,
  wipeConsumed,
} from './mls';
import type { DeviceIdentity, MlsGroup } from './mls';
import type { SenderStateStore } from './sender-state-store';

/** The escrow member's public side, as a sender of an escrowed tenant is configured with it. */
export interface EscrowMemberPublic {
  escrowId: string;
  /** MLSMessage-encoded KeyPackages of the escrow member; one is added to every new group. */
  keyPackages: readonly Uint8Array[];
}

export interface E2eeSenderOptions {
  directory: KeyPackageSource;
  store: SenderStateStore;
  identity: DeviceIdentity;
  /** Set for an escrowed tenant. A group created without it (or with another) is replaced. */
  escrow?: EscrowMemberPublic | null;
}

export interface EncryptForResult {
  /** MLSMessage-encoded PrivateMessage. */
  ciphertext: Buffer;
  /** MLSMessage-encoded Welcome on a group's first message, else null. */
  welcome: Buffer | null;
  epoch: number;
  /** Hex; also readable in clear from the ciphertext header. */
  groupId: string;
  /**
   * E2EE negotiation time. First message of a group: claim + create + add + encrypt.
   * Later messages: encrypt only.
   */
  negotiationMs: number;
  /** Time to persist the new state (not part of negotiationMs). */
  persistMs: number;
  newGroup: boolean;
  /** Recipient devices in the group. */
  devices: number;
  /** Claimed KeyPackages that were dropped as invalid when this group was created. */
  skippedKeyPackages: number;
  escrowed: boolean;
}

interface GroupRecord {
  group: MlsGroup;
  meta: GroupMeta;
}

interface GroupMeta {
  v: 1;
  devices: number;
  skipped: number;
  escrowId: string | null;
  createdAt: string;
}

const RECORD_MAGIC = 'SBG1';
const IDENTITY_KEY = '\u0000identity';

function encodeRecord(rec: GroupRecord): Uint8Array {
  return pack(RECORD_MAGIC, [encodeGroup(rec.group), new TextEncoder().encode(JSON.stringify(rec.meta))]);
}

function decodeRecord(bytes: Uint8Array): GroupRecord {
  const parts = unpack(RECORD_MAGIC, bytes, 2);
  if (!parts) throw new E2eeKeyNegotiationError('STATE_CORRUPT');
  const [state, meta] = parts as [Uint8Array, Uint8Array];
  let parsed: GroupMeta;
  try {
    parsed = JSON.parse(new TextDecoder().decode(meta)) as GroupMeta;
  } catch (err) {
    throw new E2eeKeyNegotiationError('STATE_CORRUPT', err);
  }
  return { group: decodeGroup(state), meta: parsed };
}

/** The app's sender identity, created on first use and kept (encrypted) in its own store. */
export async function loadOrCreateSenderIdentity(store: SenderStateStore): Promise<DeviceIdentity> {
  const existing = await store.load(IDENTITY_KEY);
  if (existing) return decodeIdentity(existing);
  const identity = await generateIdentity();
  await store.save(IDENTITY_KEY, encodeIdentity(identity));
  return identity;
}

export class E2eeSender {
  private readonly directory: KeyPackageSource;
  private readonly store: SenderStateStore;
  private readonly identity: DeviceIdentity;
  private readonly escrow: EscrowMemberPublic | null;
  private readonly cache = new Map<string, GroupRecord>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: E2eeSenderOptions) {
    this.directory = options.directory;
    this.store = options.store;
    this.identity = options.identity;
    this.escrow = options.escrow ?? null;
  }

  /**
   * Encrypts for every device of `msisdn`. Throws E2eeKeyNegotiationError (NO_KEY_PACKAGES,
   * BAD_KEY_PACKAGE, GROUP_SETUP_FAILED, STATE_CORRUPT); a store failure propagates, and in
   * every failure case no ciphertext exists and no state changed.
   */
  encryptFor(msisdn: string, plaintext: Uint8Array | string): Promise<EncryptForResult> {
    const bytes = typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext;
    const key = this.groupKey(msisdn);
    return this.serialised(key, () => this.encryptLocked(key, msisdn, bytes));
  }

  /** Forgets the group with `msisdn`: the next message negotiates a new one (resync path). */
  resetGroup(msisdn: string): Promise<void> {
    const key = this.groupKey(msisdn);
    return this.serialised(key, async () => {
      await this.store.delete(key);
      this.cache.delete(key);
    });
  }

  async hasGroup(msisdn: string): Promise<boolean> {
    const key = this.groupKey(msisdn);
    return this.cache.has(key) || (await this.store.load(key)) !== null;
  }

  /** The key this sender's group with `msisdn` is stored under (a store hashes it further). */
  groupKey(msisdn: string): string {
    return `${this.identity.id}\u0000${msisdn}`;
  }

  private async serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  private async current(key: string): Promise<GroupRecord | null> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const stored = await this.store.load(key);
    if (!stored) return null;
    const rec = decodeRecord(stored);
    this.cache.set(key, rec);
    return rec;
  }

  private async encryptLocked(key: string, msisdn: string, plaintext: Uint8Array): Promise<EncryptForResult> {
    const started = performance.now();
    let rec = await this.current(key);
    if (rec && rec.meta.escrowId !== (this.escrow?.escrowId ?? null)) rec = null; // escrow changed
    let welcome: Uint8Array | null = null;
    if (!rec) {
      const created = await this.negotiate(msisdn);
      rec = created.rec;
      welcome = created.welcome;
    }
    const enc = await encrypt(rec.group, plaintext);
    const negotiationMs = performance.now() - started;

    const next: GroupRecord = { group: enc.group, meta: rec.meta };
    const persistStarted = performance.now();
    await this.store.save(key, encodeRecord(next)); // before the ciphertext leaves this function
    const persistMs = performance.now() - persistStarted;
    this.cache.set(key, next);
    wipeConsumed(enc.consumed);

    const summary = describeGroup(next.group);
    return {
      ciphertext: Buffer.from(enc.ciphertext),
      welcome: welcome ? Buffer.from(welcome) : null,
      epoch: summary.epoch,
      groupId: summary.groupId,
      negotiationMs,
      persistMs,
      newGroup: welcome !== null,
      devices: next.meta.devices,
      skippedKeyPackages: next.meta.skipped,
      escrowed: next.meta.escrowId !== null,
    };
  }

  private async negotiate(msisdn: string): Promise<{ rec: GroupRecord; welcome: Uint8Array }> {
    const claimed = await this.directory.claim(msisdn);
    const usable: Uint8Array[] = [];
    for (const c of claimed) {
      try {
        await parseKeyPackage(c.keyPackage);
        usable.push(c.keyPackage);
      } catch (err) {
        if (!(err instanceof E2eeKeyNegotiationError)) throw err;
      }
    }
    if (claimed.length === 0) throw new E2eeKeyNegotiationError('NO_KEY_PACKAGES');
    if (usable.length === 0) throw new E2eeKeyNegotiationError('BAD_KEY_PACKAGE');
    const members = [...usable];
    if (this.escrow) {
      // An escrowed tenant never sends without its escrow member: a bad escrow KeyPackage fails.
      const kps = this.escrow.keyPackages;
      const pick = kps[Math.floor(Math.random() * kps.length)];
      if (!pick) throw new E2eeKeyNegotiationError('BAD_KEY_PACKAGE');
      members.push(pick);
    }
    const created = await createGroupWith(this.identity, members);
    return {
      rec: {
        group: created.group,
        meta: {
          v: 1,
          devices: usable.length,
          skipped: claimed.length - usable.length,
          escrowId: this.escrow?.escrowId ?? null,
          createdAt: new Date().toISOString(),
        },
      },
      welcome: created.welcome,
    };
  }
}
