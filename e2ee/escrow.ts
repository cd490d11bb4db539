// Escrowed keys, for regulated tenants. Each escrowed tenant has an escrow member: an MLS client
// whose KeyPackages every sender of the tenant adds to every group, so it receives each group's
// Welcome like any device. Its private material is sealed (AES-256-GCM) under a random escrow
// key; the key is split k-of-n (Shamir, shamir-secret-sharing) between custodians and then
// forgotten. Nothing in the system can open an escrowed message until k custodians hand in
// their shares.
//
// Pure functions only: the lawful-access workflow gathers approvals and shares, then calls
// reconstructEscrowKey and decryptEscrowed in an activity. To decrypt, the escrow side needs
// the group's Welcome and the message's ciphertext; whoever archives escrowed traffic keeps both.

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { pack, unpack, wipe } from './bytes';
import {
  decodeKeyPackageSecret,
  decrypt,
  encodeKeyPackageSecret,
  generateIdentity,
  generateKeyPackage,
  isE2eeError,
  joinFromWelcome,
  welcomeRecipients,
} from './mls';
import type { E2eeErrorCode, KeyPackageSecret, MlsGroup } from './mls';
import type { EscrowMemberPublic } from './sender';

export interface EscrowRecord extends EscrowMemberPublic {
  escrowId: string;
  tenant: string;
  /** k: shares needed. */
  threshold: number;
  /** n: shares issued, one per custodian. */
  custodians: number;
  /** MLSMessage-encoded KeyPackages; senders add one to every group. Public. */
  keyPackages: Uint8Array[];
  /** The escrow member's private KeyPackage material, sealed under the escrow key. */
  sealedMember: Uint8Array;
  /** Hex SHA-256 of each share (index i at i−1): lets a reconstruction reject a bad share. */
  shareDigests: string[];
  /** Hex HMAC of a constant under the escrow key: proves a reconstructed key right. */
  keyCheck: string;
}

/**
 * One custodian's share. createEscrow is the dealer: it holds all n once, so it runs where the
 * operator can hand each to its custodian and then delete it; never keep them together after.
 */
export interface EscrowShare {
  escrowId: string;
  /** 1..n */
  index: number;
  share: Uint8Array;
}

export interface EscrowedMessage {
  messageId: string;
  /** The Welcome of the message's group (it names the escrow member). */
  welcome: Uint8Array;
  ciphertext: Uint8Array;
}

export type EscrowDecryption =
  | { messageId: string; ok: true; plaintext: Uint8Array }
  | { messageId: string; ok: false; code: EscrowErrorCode | E2eeErrorCode };

export type EscrowErrorCode =
  | 'INVALID_PARAMETERS'
  | 'INSUFFICIENT_SHARES'
  | 'KEY_CHECK_FAILED'
  | 'UNSEAL_FAILED'
  | 'NOT_ESCROWED'
  | 'DUPLICATE_MESSAGE_ID';

/** Never carries a share, a key or a plaintext: safe for audit and security logs. */
export class EscrowError extends Error {
  override readonly name = 'EscrowError';
  constructor(
    readonly code: EscrowErrorCode,
    readonly validShares?: number,
  ) {
    super(`escrow: ${code}`);
  }
}

export interface CreateEscrowOptions {
  tenant: string;
  threshold: number;
  custodians: number;
  /** KeyPackages the escrow member publishes (default 1, reused across groups). */
  keyPackages?: number;
}

const KEY_CHECK_LABEL = 'switchboard escrow key check v1';
const SEALED_MAGIC = Buffer.from('SBE1', 'latin1');
const MEMBER_MAGIC = 'SBM1';
/** Escrow decryption starts from the join state for every message, so it may skip far. */
const ESCROW_MAX_FORWARD_STEPS = 100_000;

function keyCheckOf(key: Uint8Array): string {
  return createHmac('sha256', key).update(KEY_CHECK_LABEL).digest('hex');
}

function shareDigest(escrowId: string, index: number, share: Uint8Array): string {
  return createHash('sha256').update(`${escrowId}\u0000${index}\u0000`).update(share).digest('hex');
}

function aadOf(escrowId: string, tenant: string): Buffer {
  return Buffer.concat([SEALED_MAGIC, Buffer.from(`${escrowId}\u0000${tenant}`, 'utf8')]);
}

/**
 * Creates a tenant's escrow member and its escrow key, seals the member under the key, splits
 * the key k-of-n and wipes it. Returns the public record (store it) and the n shares.
 */
export async function createEscrow(
  options: CreateEscrowOptions,
): Promise<{ record: EscrowRecord; shares: EscrowShare[] }> {
  const { tenant, threshold, custodians } = options;
  const count = options.keyPackages ?? 1;
  if (
    !Number.isInteger(threshold) ||
    !Number.isInteger(custodians) ||
    threshold < 2 ||
    custodians < threshold ||
    custodians > 255 ||
    !Number.isInteger(count) ||
    count < 1
  ) {
    throw new EscrowError('INVALID_PARAMETERS');
  }
  const escrowId = randomBytes(12).toString('hex');
  const identity = await generateIdentity(`escrow:${escrowId}`);
  const generated = [];
  for (let i = 0; i < count; i++) generated.push(await generateKeyPackage(identity));

  const key = new Uint8Array(randomBytes(32));
  try {
    const encoded = generated.map((g) => encodeKeyPackageSecret(g.secret));
    const member = pack(MEMBER_MAGIC, encoded);
    wipe(...encoded);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aadOf(escrowId, tenant));
    const ct = Buffer.concat([cipher.update(member), cipher.final()]);
    wipe(member, identity.signaturePrivateKey);
    for (const g of generated) wipe(g.secret.privateKeys.initPrivateKey, g.secret.privateKeys.hpkePrivateKey);
    const sealedMember = new Uint8Array(Buffer.concat([SEALED_MAGIC, iv, cipher.getAuthTag(), ct]));

    const raw = await split(key, custodians, threshold);
    const shares = raw.map((share, i) => ({ escrowId, index: i + 1, share }));
    return {
      record: {
        escrowId,
        tenant,
        threshold,
        custodians,
        keyPackages: generated.map((g) => g.keyPackage),
        sealedMember,
        shareDigests: shares.map((s) => shareDigest(escrowId, s.index, s.share)),
        keyCheck: keyCheckOf(key),
      },
      shares,
    };
  } finally {
    wipe(key);
  }
}

/** True when `share` is one of the shares issued for `record` (its digest matches). */
export function isEscrowShareOf(
  share: EscrowShare,
  record: Pick<EscrowRecord, 'escrowId' | 'shareDigests'>,
): boolean {
  if (share.escrowId !== record.escrowId) return false;
  const expected = record.shareDigests[share.index - 1];
  return expected !== undefined && shareDigest(share.escrowId, share.index, share.share) === expected;
}

/**
 * Rebuilds the escrow key from custodians' shares. Shares for another escrow, with a wrong
 * digest, or repeated, do not count. Fewer than k valid shares: EscrowError INSUFFICIENT_SHARES
 * (with `validShares`); a result that fails the key check: KEY_CHECK_FAILED.
 */
export async function reconstructEscrowKey(
  shares: readonly EscrowShare[],
  record: Pick<EscrowRecord, 'escrowId' | 'threshold' | 'shareDigests' | 'keyCheck'>,
): Promise<Uint8Array> {
  const valid = new Map<number, Uint8Array>();
  for (const s of shares) {
    if (valid.has(s.index) || !isEscrowShareOf(s, record)) continue;
    valid.set(s.index, s.share);
  }
  if (valid.size < record.threshold) throw new EscrowError('INSUFFICIENT_SHARES', valid.size);
  const key = await combine([...valid.values()]);
  const check = Buffer.from(keyCheckOf(key), 'hex');
  if (!timingSafeEqual(check, Buffer.from(record.keyCheck, 'hex'))) {
    wipe(key);
    throw new EscrowError('KEY_CHECK_FAILED', valid.size);
  }
  return key;
}

async function unsealMember(record: EscrowRecord, key: Uint8Array): Promise<KeyPackageSecret[]> {
  const blob = Buffer.from(record.sealedMember);
  if (key.length !== 32 || blob.length < 4 + 12 + 16 || !blob.subarray(0, 4).equals(SEALED_MAGIC)) {
    throw new EscrowError('UNSEAL_FAILED');
  }
  let member: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(4, 16));
    decipher.setAAD(aadOf(record.escrowId, record.tenant));
    decipher.setAuthTag(blob.subarray(16, 32));
    member = Buffer.concat([decipher.update(blob.subarray(32)), decipher.final()]);
  } catch {
    throw new EscrowError('UNSEAL_FAILED');
  }
  const parts = unpack(MEMBER_MAGIC, member);
  wipe(member);
  if (!parts) throw new EscrowError('UNSEAL_FAILED');
  const secrets = [];
  for (const p of parts) {
    secrets.push(await decodeKeyPackageSecret(p));
    wipe(p);
  }
  return secrets;
}

/**
 * Decrypts exactly the named messages, each independently from its group's join state (so no
 * other message of the group is ever decrypted, and order does not matter). A wrong key fails
 * the whole call with EscrowError UNSEAL_FAILED; a message that cannot be opened gets its own
 * code in the result. The unsealed private keys are wiped before returning; the joined groups'
 * states are dropped (not wiped: ts-mls keeps them in its own structures).
 */
export async function decryptEscrowed(
  messages: readonly EscrowedMessage[],
  key: Uint8Array,
  record: EscrowRecord,
): Promise<EscrowDecryption[]> {
  const ids = new Set(messages.map((m) => m.messageId));
  if (ids.size !== messages.length) throw new EscrowError('DUPLICATE_MESSAGE_ID');
  const secrets = await unsealMember(record, key);
  const refs = new Set(secrets.map((s) => s.ref));
  const groups = new Map<string, MlsGroup>();
  const out: EscrowDecryption[] = [];
  try {
    for (const m of messages) {
      const welcomeKey = createHash('sha256').update(m.welcome).digest('hex');
      try {
        let group = groups.get(welcomeKey);
        if (!group) {
          if (!welcomeRecipients(m.welcome).some((r) => refs.has(r))) {
            out.push({ messageId: m.messageId, ok: false, code: 'NOT_ESCROWED' });
            continue;
          }
          group = (
            await joinFromWelcome(m.welcome, secrets, {
              maximumForwardRatchetSteps: ESCROW_MAX_FORWARD_STEPS,
            })
          ).group;
          groups.set(welcomeKey, group);
        }
        // From the join state every time; the resulting state is dropped, not kept.
        const { plaintext } = await decrypt(group, m.ciphertext);
        out.push({ messageId: m.messageId, ok: true, plaintext });
      } catch (err) {
        if (!isE2eeError(err)) throw err;
        out.push({ messageId: m.messageId, ok: false, code: err.code });
      }
    }
  } finally {
    for (const s of secrets) {
      wipe(s.privateKeys.initPrivateKey, s.privateKeys.hpkePrivateKey, s.privateKeys.signaturePrivateKey);
    }
  }
  return out;
}

/** What a sender of the tenant is configured with. */
export function escrowMemberOf(record: EscrowRecord): EscrowMemberPublic {
  return { escrowId: record.escrowId, keyPackages: record.keyPackages };
}

/** JSON-safe form of a record (bytes as base64), for storage by the integrating code. */
export function encodeEscrowRecord(record: EscrowRecord): string {
  return JSON.stringify({
    ...record,
    keyPackages: record.keyPackages.map((k) => Buffer.from(k).toString('base64')),
    sealedMember: Buffer.from(record.sealedMember).toString('base64'),
  });
}

export function decodeEscrowRecord(json: string): EscrowRecord {
  const raw = JSON.parse(json) as Omit<EscrowRecord, 'keyPackages' | 'sealedMember'> & {
    keyPackages: string[];
    sealedMember: string;
  };
  return {
    ...raw,
    keyPackages: raw.keyPackages.map((k) => new Uint8Array(Buffer.from(k, 'base64'))),
    sealedMember: new Uint8Array(Buffer.from(raw.sealedMember, 'base64')),
  };
}

/** A share as one string (for handing to a custodian), and back. */
export function encodeEscrowShare(share: EscrowShare): string {
  return `${share.escrowId}.${share.index}.${Buffer.from(share.share).toString('base64url')}`;
}

export function decodeEscrowShare(text: string): EscrowShare {
  const [escrowId, index, share] = text.trim().split('.');
  if (!escrowId || !index || !share || !/^\d+$/.test(index)) throw new EscrowError('INVALID_PARAMETERS');
  return { escrowId, index: Number(index), share: new Uint8Array(Buffer.from(share, 'base64url')) };
}
