// A small, typed wrapper over ts-mls (RFC 9420) with one cipher suite,
// MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519. Everything crossing this module's boundary is
// bytes or an opaque group handle; ts-mls types stay inside.
//
// Every operation returns a new group state and leaves the old one usable: callers persist the
// new state, and only then wipe `consumed` (the secrets the old state held for the step just
// taken). A sender that goes back to an older state reuses a key generation.

import { randomBytes } from 'node:crypto';
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  generateKeyPackageWithKey,
  joinGroup,
  processPrivateMessage,
} from 'ts-mls';
import type {
  CiphersuiteImpl,
  ClientConfig,
  ClientState,
  Credential,
  KeyPackage,
  PrivateKeyPackage,
  Proposal,
  Welcome,
} from 'ts-mls';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { makeKeyPackageRef, verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { pack, toHex, unpack } from './bytes';
import { E2eeDecryptError, E2eeKeyNegotiationError } from './errors';

export * from './errors';

export const CIPHER_SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const;

/** An MLS group as one member holds it. Opaque: use the functions of this module. */
export type MlsGroup = ClientState & { readonly __brand?: 'MlsGroup' };

/** A device's long-term MLS identity: its signature key pair and the basic credential. */
export interface DeviceIdentity {
  /** Opaque identifier carried in the MLS credential, visible to group members. Never a number. */
  readonly id: string;
  readonly signaturePublicKey: Uint8Array;
  readonly signaturePrivateKey: Uint8Array;
}

/** The private half of a published KeyPackage; stays on the device that generated it. */
export interface KeyPackageSecret {
  /** KeyPackageRef (RFC 9420 §5.2) as hex: how a Welcome names the KeyPackage it was made for. */
  readonly ref: string;
  readonly keyPackage: KeyPackage;
  readonly privateKeys: PrivateKeyPackage;
}

export interface GeneratedKeyPackage {
  /** The MLSMessage-encoded KeyPackage to publish (≈350 bytes). */
  keyPackage: Uint8Array;
  secret: KeyPackageSecret;
}

export interface ClientOptions {
  /**
   * How many generations a receiver may skip (default 200, as ts-mls). Escrow decryption, which
   * starts from the join state for every message, raises it.
   */
  maximumForwardRatchetSteps?: number;
}

let suite: Promise<CiphersuiteImpl> | undefined;

/** The cipher suite implementation, created once per process. */
export function cipherSuite(): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHER_SUITE));
  return suite;
}

export function clientConfig(options: ClientOptions = {}): ClientConfig {
  if (options.maximumForwardRatchetSteps === undefined) return defaultClientConfig;
  return {
    ...defaultClientConfig,
    keyRetentionConfig: {
      ...defaultClientConfig.keyRetentionConfig,
      maximumForwardRatchetSteps: options.maximumForwardRatchetSteps,
    },
  };
}

const utf8 = new TextEncoder();

function credentialOf(identity: DeviceIdentity): Credential {
  return { credentialType: 'basic', identity: utf8.encode(identity.id) };
}

// ---------------------------------------------------------------------------------------------
// Identity and KeyPackages

/** A fresh identity. `id` defaults to 16 random bytes in hex; it must never be a phone number. */
export async function generateIdentity(
  id: string = randomBytes(16).toString('hex'),
): Promise<DeviceIdentity> {
  const cs = await cipherSuite();
  const { publicKey, signKey } = await cs.signature.keygen();
  return { id, signaturePublicKey: publicKey, signaturePrivateKey: signKey };
}

const IDENTITY_MAGIC = 'SBI1';

/** Serialises an identity, private key included: store it encrypted (see sender-state-store). */
export function encodeIdentity(identity: DeviceIdentity): Uint8Array {
  return pack(IDENTITY_MAGIC, [
    utf8.encode(identity.id),
    identity.signaturePublicKey,
    identity.signaturePrivateKey,
  ]);
}

export function decodeIdentity(bytes: Uint8Array): DeviceIdentity {
  const parts = unpack(IDENTITY_MAGIC, bytes, 3);
  if (!parts) throw new E2eeKeyNegotiationError('STATE_CORRUPT');
  const [id, pub, priv] = parts as [Uint8Array, Uint8Array, Uint8Array];
  return { id: new TextDecoder().decode(id), signaturePublicKey: pub, signaturePrivateKey: priv };
}

/** A new KeyPackage signed by the identity; publish `keyPackage`, keep `secret`. */
export async function generateKeyPackage(identity: DeviceIdentity): Promise<GeneratedKeyPackage> {
  const cs = await cipherSuite();
  const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
    credentialOf(identity),
    defaultCapabilities(),
    defaultLifetime,
    [],
    { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
    cs,
  );
  const ref = toHex(await makeKeyPackageRef(publicPackage, cs.hash));
  return {
    keyPackage: encodeMlsMessage({
      version: 'mls10',
      wireformat: 'mls_key_package',
      keyPackage: publicPackage,
    }),
    secret: { ref, keyPackage: publicPackage, privateKeys: privatePackage },
  };
}

const KP_SECRET_MAGIC = 'SBK1';

/** Serialises a KeyPackage's private half (for sealing, e.g. the escrow member's). */
export function encodeKeyPackageSecret(secret: KeyPackageSecret): Uint8Array {
  const { initPrivateKey, hpkePrivateKey, signaturePrivateKey } = secret.privateKeys;
  const kp = encodeMlsMessage({
    version: 'mls10',
    wireformat: 'mls_key_package',
    keyPackage: secret.keyPackage,
  });
  return pack(KP_SECRET_MAGIC, [kp, initPrivateKey, hpkePrivateKey, signaturePrivateKey]);
}

export async function decodeKeyPackageSecret(bytes: Uint8Array): Promise<KeyPackageSecret> {
  const parts = unpack(KP_SECRET_MAGIC, bytes, 4);
  if (!parts) throw new E2eeKeyNegotiationError('STATE_CORRUPT');
  const [kp, initPrivateKey, hpkePrivateKey, signaturePrivateKey] = parts as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const keyPackage = await parseKeyPackage(kp);
  const cs = await cipherSuite();
  return {
    ref: toHex(await makeKeyPackageRef(keyPackage, cs.hash)),
    keyPackage,
    privateKeys: { initPrivateKey, hpkePrivateKey, signaturePrivateKey },
  };
}

/**
 * Decodes and checks a published KeyPackage: MLSMessage framing, our cipher suite, and its
 * signature. Throws E2eeKeyNegotiationError('BAD_KEY_PACKAGE').
 */
export async function parseKeyPackage(bytes: Uint8Array): Promise<KeyPackage> {
  let decoded;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (err) {
    throw new E2eeKeyNegotiationError('BAD_KEY_PACKAGE', err);
  }
  const msg = decoded?.[0];
  if (!decoded || !msg || decoded[1] !== bytes.length || msg.wireformat !== 'mls_key_package') {
    throw new E2eeKeyNegotiationError('BAD_KEY_PACKAGE');
  }
  if (msg.keyPackage.cipherSuite !== CIPHER_SUITE || msg.keyPackage.version !== 'mls10') {
    throw new E2eeKeyNegotiationError('BAD_KEY_PACKAGE');
  }
  const cs = await cipherSuite();
  if (!(await verifyKeyPackage(msg.keyPackage, cs.signature)))
    throw new E2eeKeyNegotiationError('BAD_KEY_PACKAGE');
  return msg.keyPackage;
}

/** The KeyPackageRef (hex) of a published KeyPackage; throws BAD_KEY_PACKAGE. */
export async function keyPackageRef(bytes: Uint8Array): Promise<string> {
  const cs = await cipherSuite();
  return toHex(await makeKeyPackageRef(await parseKeyPackage(bytes), cs.hash));
}

// ---------------------------------------------------------------------------------------------
// Groups

export interface CreatedGroup {
  group: MlsGroup;
  /** One MLSMessage-encoded Welcome for every member added (all devices, and escrow if any). */
  welcome: Uint8Array;
  groupId: Uint8Array;
}

/**
 * Creates a group owned by `identity` and adds every KeyPackage in one commit. The Welcome
 * carries the ratchet tree, so a joiner needs nothing else. A bad KeyPackage fails the whole
 * setup with BAD_KEY_PACKAGE (the caller can drop it and retry with the rest).
 */
export async function createGroupWith(
  identity: DeviceIdentity,
  memberKeyPackages: readonly Uint8Array[],
  options: ClientOptions = {},
): Promise<CreatedGroup> {
  if (memberKeyPackages.length === 0) throw new E2eeKeyNegotiationError('NO_KEY_PACKAGES');
  const cs = await cipherSuite();
  const members: KeyPackage[] = [];
  for (const bytes of memberKeyPackages) members.push(await parseKeyPackage(bytes));
  const groupId = new Uint8Array(randomBytes(32));
  try {
    const own = await generateKeyPackageWithKey(
      credentialOf(identity),
      defaultCapabilities(),
      defaultLifetime,
      [],
      { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
      cs,
    );
    const created = await createGroup(
      groupId,
      own.publicPackage,
      own.privatePackage,
      [],
      cs,
      clientConfig(options),
    );
    const proposals: Proposal[] = members.map((keyPackage) => ({ proposalType: 'add', add: { keyPackage } }));
    const commit = await createCommit(
      { state: created, cipherSuite: cs },
      { extraProposals: proposals, ratchetTreeExtension: true },
    );
    if (!commit.welcome) throw new Error('commit produced no Welcome');
    // The commit itself goes to no one: every other member joins from the Welcome.
    commit.consumed.forEach((c) => c.fill(0));
    return {
      group: commit.newState,
      welcome: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: commit.welcome }),
      groupId,
    };
  } catch (err) {
    if (err instanceof E2eeKeyNegotiationError) throw err;
    const message = err instanceof Error ? err.message : '';
    throw new E2eeKeyNegotiationError(
      /keypackage|key package/i.test(message) ? 'BAD_KEY_PACKAGE' : 'GROUP_SETUP_FAILED',
      err,
    );
  }
}

function parseWelcome(bytes: Uint8Array): Welcome {
  let decoded;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch (err) {
    throw new E2eeKeyNegotiationError('WELCOME_REJECTED', err);
  }
  const msg = decoded?.[0];
  if (!msg || msg.wireformat !== 'mls_welcome' || msg.welcome.cipherSuite !== CIPHER_SUITE) {
    throw new E2eeKeyNegotiationError('WELCOME_REJECTED');
  }
  return msg.welcome;
}

/** The KeyPackageRefs (hex) a Welcome is addressed to. Throws WELCOME_REJECTED. */
export function welcomeRecipients(welcome: Uint8Array): string[] {
  return parseWelcome(welcome).secrets.map((s) => toHex(s.newMember));
}

export interface JoinedGroup {
  group: MlsGroup;
  /** The ref of the KeyPackage the Welcome used: a one-time one must now be deleted. */
  usedRef: string;
}

/**
 * Joins from a Welcome with whichever of `secrets` it is addressed to. Throws
 * NOT_IN_WELCOME when it names none of them, WELCOME_REJECTED when joining fails.
 */
export async function joinFromWelcome(
  welcome: Uint8Array,
  secrets: Iterable<KeyPackageSecret> | ReadonlyMap<string, KeyPackageSecret>,
  options: ClientOptions = {},
): Promise<JoinedGroup> {
  const parsed = parseWelcome(welcome);
  const refs = new Set(parsed.secrets.map((s) => toHex(s.newMember)));
  const candidates: Iterable<KeyPackageSecret> =
    secrets instanceof Map
      ? (secrets as ReadonlyMap<string, KeyPackageSecret>).values()
      : (secrets as Iterable<KeyPackageSecret>);
  let mine: KeyPackageSecret | undefined;
  for (const s of candidates) {
    if (refs.has(s.ref)) {
      mine = s;
      break;
    }
  }
  if (!mine) throw new E2eeKeyNegotiationError('NOT_IN_WELCOME');
  const cs = await cipherSuite();
  try {
    const group = await joinGroup(
      parsed,
      mine.keyPackage,
      mine.privateKeys,
      emptyPskIndex,
      cs,
      undefined,
      undefined,
      clientConfig(options),
    );
    return { group, usedRef: mine.ref };
  } catch (err) {
    throw new E2eeKeyNegotiationError('WELCOME_REJECTED', err);
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

export interface Encrypted {
  group: MlsGroup;
  /** MLSMessage-encoded PrivateMessage. */
  ciphertext: Uint8Array;
  /** Secrets of the step just taken: wipe them (wipeConsumed) once `group` is persisted. */
  consumed: Uint8Array[];
}

export async function encrypt(group: MlsGroup, plaintext: Uint8Array): Promise<Encrypted> {
  const cs = await cipherSuite();
  const result = await createApplicationMessage(group, plaintext, cs);
  return {
    group: result.newState,
    ciphertext: encodeMlsMessage({
      version: 'mls10',
      wireformat: 'mls_private_message',
      privateMessage: result.privateMessage,
    }),
    consumed: result.consumed,
  };
}

export interface Decrypted {
  group: MlsGroup;
  plaintext: Uint8Array;
  consumed: Uint8Array[];
}

function parsePrivateMessage(ciphertext: Uint8Array) {
  let decoded;
  try {
    decoded = decodeMlsMessage(ciphertext, 0);
  } catch (err) {
    throw new E2eeDecryptError('MALFORMED_MESSAGE', err);
  }
  const msg = decoded?.[0];
  if (!msg || msg.wireformat !== 'mls_private_message') throw new E2eeDecryptError('MALFORMED_MESSAGE');
  return msg.privateMessage;
}

/** The (cleartext) group id in a PrivateMessage's header, to pick the group state. */
export function messageGroupId(ciphertext: Uint8Array): string {
  return toHex(parsePrivateMessage(ciphertext).groupId);
}

function decryptCode(err: unknown): E2eeDecryptError {
  const message = err instanceof Error ? err.message : '';
  if (message.includes('too far in the future')) return new E2eeDecryptError('GENERATION_TOO_FAR', err);
  if (message.includes('gen in the past')) return new E2eeDecryptError('GENERATION_REUSED', err);
  if (message.includes('epoch too old')) return new E2eeDecryptError('EPOCH_MISMATCH', err);
  return new E2eeDecryptError('DECRYPT_FAILED', err);
}

/** Decrypts an application message. Throws E2eeDecryptError; `group` is untouched on failure. */
export async function decrypt(group: MlsGroup, ciphertext: Uint8Array): Promise<Decrypted> {
  const pm = parsePrivateMessage(ciphertext);
  if (toHex(pm.groupId) !== toHex(group.groupContext.groupId)) throw new E2eeDecryptError('UNKNOWN_GROUP');
  if (pm.epoch > group.groupContext.epoch) throw new E2eeDecryptError('EPOCH_MISMATCH');
  const cs = await cipherSuite();
  let result;
  try {
    result = await processPrivateMessage(group, pm, emptyPskIndex, cs);
  } catch (err) {
    throw decryptCode(err);
  }
  if (result.kind !== 'applicationMessage') throw new E2eeDecryptError('NOT_APPLICATION_MESSAGE');
  return { group: result.newState, plaintext: result.message, consumed: result.consumed };
}

/** Zeroes secrets a step has consumed. Only after the new state is safely persisted. */
export function wipeConsumed(consumed: readonly Uint8Array[]): void {
  for (const c of consumed) c.fill(0);
}

// ---------------------------------------------------------------------------------------------
// State

/** Serialises a group state (≈1.2 KB). It holds the signing key and epoch secrets: encrypt it. */
export function encodeGroup(group: MlsGroup): Uint8Array {
  return encodeGroupState(group);
}

export function decodeGroup(bytes: Uint8Array, options: ClientOptions = {}): MlsGroup {
  let decoded;
  try {
    decoded = decodeGroupState(bytes, 0);
  } catch (err) {
    throw new E2eeKeyNegotiationError('STATE_CORRUPT', err);
  }
  if (!decoded || decoded[1] !== bytes.length) throw new E2eeKeyNegotiationError('STATE_CORRUPT');
  return { ...decoded[0], clientConfig: clientConfig(options) };
}

export interface GroupSummary {
  groupId: string;
  epoch: number;
  /** Non-blank leaves, the holder included. */
  members: number;
}

export function describeGroup(group: MlsGroup): GroupSummary {
  return {
    groupId: toHex(group.groupContext.groupId),
    epoch: Number(group.groupContext.epoch),
    members: group.ratchetTree.filter((n) => n?.nodeType === 'leaf').length,
  };
}

/** The basic-credential identities of the group's members (device ids, escrow id). */
export function memberIds(group: MlsGroup): string[] {
  const out: string[] = [];
  for (const node of group.ratchetTree) {
    if (node?.nodeType !== 'leaf') continue;
    const cred = node.leaf.credential;
    if (cred.credentialType === 'basic') out.push(new TextDecoder().decode(cred.identity));
  }
  return out;
}
