// Simulated phones that are real MLS clients (e2ee/mls.ts over ts-mls). Each number has one
// device by default, or several (a multi-device user). Each device has its own identity,
// publishes one-time KeyPackages and a last-resort one to the key directory when started, and
// tops them up when they run low. A received message is joined from its Welcome (if any) and
// decrypted on every device; the result is {ok: true, plaintext} only when every device
// decrypted it. `failDecryptFor` corrupts the ciphertext before decrypting, so a forced failure
// goes through the real decrypt path and yields the real typed code. The inbox keeps plaintext
// in memory for tests; nothing here logs.

import { randomBytes } from 'node:crypto';
import type { KeyPackagePublisher } from '../e2ee/key-directory';
import {
  decrypt,
  generateIdentity,
  generateKeyPackage,
  isE2eeError,
  joinFromWelcome,
  messageGroupId,
  welcomeRecipients,
  wipeConsumed,
} from '../e2ee/mls';
import type { DeviceIdentity, E2eeErrorCode, KeyPackageSecret, MlsGroup } from '../e2ee/mls';
import { behaviourFor } from './number-plan';

export interface SandboxPhonesOptions {
  directory: KeyPackagePublisher;
  /** Devices for a number started without an explicit count. Default 1. */
  devicesFor?: (msisdn: string) => number;
  /** One-time KeyPackages published per device at a time. Default 10. */
  oneTimeBatch?: number;
  /** A device publishes another batch when fewer one-time packages than this are left. Default 3. */
  lowWatermark?: number;
  /** Which numbers are MLS-capable phones for `ensure`. Default: the number plan's e2ee flag. */
  isE2eeNumber?: (msisdn: string) => boolean;
}

export interface IncomingE2eeMessage {
  /** MLSMessage-encoded PrivateMessage. */
  ciphertext: Uint8Array;
  /** MLSMessage-encoded Welcome, on a group's first message. */
  welcome?: Uint8Array | null;
  /** For correlation in the inbox only. */
  messageId?: string;
}

export type FailureKind = 'decrypt' | 'key-negotiation';

export type DeviceReceipt =
  | { deviceId: string; ok: true; joined: boolean }
  | { deviceId: string; ok: false; joined: boolean; kind: FailureKind; code: E2eeErrorCode };

export type ReceiveResult =
  | { ok: true; plaintext: Buffer; devices: DeviceReceipt[] }
  | { ok: false; kind: FailureKind; code: E2eeErrorCode; devices: DeviceReceipt[] };

export interface InboxEntry {
  messageId: string | undefined;
  at: Date;
  welcome: boolean;
  ok: boolean;
  /** Only for ok entries. */
  plaintext?: Buffer;
  code?: E2eeErrorCode;
  devices: DeviceReceipt[];
}

interface Device {
  deviceId: string;
  identity: DeviceIdentity;
  secrets: Map<string, KeyPackageSecret>;
  lastResortRef: string;
  groups: Map<string, MlsGroup>;
}

interface Phone {
  devices: Device[];
  inbox: InboxEntry[];
  queue: Promise<unknown>;
}

export class SandboxPhones {
  private readonly directory: KeyPackagePublisher;
  private readonly devicesFor: (msisdn: string) => number;
  private readonly oneTimeBatch: number;
  private readonly lowWatermark: number;
  private readonly isE2eeNumber: (msisdn: string) => boolean;
  private readonly phones = new Map<string, Promise<Phone>>();
  private readonly faults = new Map<string, number>();
  private readonly inboxes = new Map<string, InboxEntry[]>();

  constructor(options: SandboxPhonesOptions) {
    this.directory = options.directory;
    this.devicesFor = options.devicesFor ?? (() => 1);
    this.oneTimeBatch = options.oneTimeBatch ?? 10;
    this.lowWatermark = options.lowWatermark ?? 3;
    this.isE2eeNumber = options.isE2eeNumber ?? ((msisdn) => behaviourFor(msisdn).e2ee);
    if (this.oneTimeBatch < 1 || this.lowWatermark < 0) throw new Error('invalid KeyPackage batch settings');
  }

  /**
   * Starts the phone for a number: generates each device's identity and publishes its
   * KeyPackages. Idempotent; a second call with another device count changes nothing.
   * Resolves to the device ids.
   */
  async start(msisdn: string, options: { devices?: number } = {}): Promise<string[]> {
    let phone = this.phones.get(msisdn);
    if (!phone) {
      const count = options.devices ?? this.devicesFor(msisdn);
      if (!Number.isInteger(count) || count < 1) throw new Error('a phone needs at least one device');
      phone = this.createPhone(msisdn, count);
      this.phones.set(msisdn, phone);
      phone.catch(() => this.phones.delete(msisdn));
    }
    return (await phone).devices.map((d) => d.deviceId);
  }

  /** Starts the phone if the number is an MLS-capable one; false for every other number. */
  async ensure(msisdn: string): Promise<boolean> {
    if (this.phones.has(msisdn)) return true;
    if (!this.isE2eeNumber(msisdn)) return false;
    await this.start(msisdn);
    return true;
  }

  isStarted(msisdn: string): boolean {
    return this.phones.has(msisdn);
  }

  async devices(msisdn: string): Promise<string[]> {
    const phone = await this.phones.get(msisdn);
    return phone ? phone.devices.map((d) => d.deviceId) : [];
  }

  /** Publishes a batch for every device of the number below the low watermark. Returns how many. */
  async replenish(msisdn: string): Promise<number> {
    const phone = await this.phones.get(msisdn);
    if (!phone) return 0;
    return this.serialised(phone, () => this.replenishPhone(msisdn, phone));
  }

  /**
   * Delivers a message to every device of the number: join from the Welcome if one came, then
   * decrypt. Never throws for an E2EE failure: it answers {ok: false, kind, code}.
   */
  async receive(msisdn: string, message: IncomingE2eeMessage): Promise<ReceiveResult> {
    const phone = await this.phones.get(msisdn);
    if (!phone) {
      const code: E2eeErrorCode = message.welcome ? 'NOT_IN_WELCOME' : 'UNKNOWN_GROUP';
      return { ok: false, kind: message.welcome ? 'key-negotiation' : 'decrypt', code, devices: [] };
    }
    return this.serialised(phone, async () => {
      const forced = this.takeFault(msisdn);
      const receipts: DeviceReceipt[] = [];
      const plaintexts: Buffer[] = [];
      let joinedAny = false;
      for (const device of phone.devices) {
        const r = await this.receiveOnDevice(device, message, forced);
        receipts.push(r.receipt);
        joinedAny ||= r.receipt.joined;
        if (r.plaintext) plaintexts.push(r.plaintext);
      }
      if (joinedAny) await this.replenishPhone(msisdn, phone);

      const failed = receipts.find((r): r is Extract<DeviceReceipt, { ok: false }> => !r.ok);
      const first = plaintexts[0];
      let result: ReceiveResult;
      if (failed) {
        result = { ok: false, kind: failed.kind, code: failed.code, devices: receipts };
      } else if (!first || plaintexts.some((p) => !p.equals(first))) {
        result = { ok: false, kind: 'decrypt', code: 'DECRYPT_FAILED', devices: receipts };
      } else {
        result = { ok: true, plaintext: first, devices: receipts };
      }
      phone.inbox.push({
        messageId: message.messageId,
        at: new Date(),
        welcome: Boolean(message.welcome),
        ok: result.ok,
        ...(result.ok ? { plaintext: result.plaintext } : { code: result.code }),
        devices: receipts,
      });
      return result;
    });
  }

  /**
   * Forces the next `times` receives for the number to fail decryption (default: until
   * clearFaults). The ciphertext is corrupted before decrypting; group state is unaffected.
   */
  failDecryptFor(msisdn: string, times = Number.POSITIVE_INFINITY): void {
    this.faults.set(msisdn, times);
  }

  clearFaults(msisdn?: string): void {
    if (msisdn === undefined) this.faults.clear();
    else this.faults.delete(msisdn);
  }

  /** What the number's phone received, oldest first. Empty for a phone not (yet) started. */
  inbox(msisdn: string): readonly InboxEntry[] {
    const entries = this.inboxes.get(msisdn);
    return entries ? [...entries] : [];
  }

  clearInbox(msisdn?: string): void {
    for (const [n, entries] of this.inboxes) if (msisdn === undefined || n === msisdn) entries.length = 0;
  }

  private takeFault(msisdn: string): boolean {
    const left = this.faults.get(msisdn);
    if (left === undefined || left <= 0) return false;
    if (left !== Number.POSITIVE_INFINITY) {
      if (left <= 1) this.faults.delete(msisdn);
      else this.faults.set(msisdn, left - 1);
    }
    return true;
  }

  private async createPhone(msisdn: string, count: number): Promise<Phone> {
    // A sandbox process owns its numbers' devices: KeyPackages left in the directory by an
    // earlier run have no private keys here any more, so they are withdrawn first.
    if (this.directory.inventory && this.directory.removeDevice) {
      for (const stale of await this.directory.inventory(msisdn)) {
        await this.directory.removeDevice(msisdn, stale.deviceId);
      }
    }
    const devices: Device[] = [];
    for (let i = 0; i < count; i++) {
      const deviceId = `dev${i + 1}-${randomBytes(4).toString('hex')}`;
      const identity = await generateIdentity();
      const lastResort = await generateKeyPackage(identity);
      const device: Device = {
        deviceId,
        identity,
        secrets: new Map([[lastResort.secret.ref, lastResort.secret]]),
        lastResortRef: lastResort.secret.ref,
        groups: new Map(),
      };
      const oneTime = await this.generateBatch(device);
      await this.directory.publish(msisdn, deviceId, { oneTime, lastResort: lastResort.keyPackage });
      devices.push(device);
    }
    const inbox: InboxEntry[] = [];
    this.inboxes.set(msisdn, inbox);
    return { devices, inbox, queue: Promise.resolve() };
  }

  private async generateBatch(device: Device): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.oneTimeBatch; i++) {
      const kp = await generateKeyPackage(device.identity);
      device.secrets.set(kp.secret.ref, kp.secret);
      out.push(kp.keyPackage);
    }
    return out;
  }

  private async replenishPhone(msisdn: string, phone: Phone): Promise<number> {
    let published = 0;
    for (const device of phone.devices) {
      if ((await this.directory.count(msisdn, device.deviceId)) >= this.lowWatermark) continue;
      const oneTime = await this.generateBatch(device);
      await this.directory.publish(msisdn, device.deviceId, { oneTime });
      published += oneTime.length;
    }
    return published;
  }

  private async receiveOnDevice(
    device: Device,
    message: IncomingE2eeMessage,
    forced: boolean,
  ): Promise<{ receipt: DeviceReceipt; plaintext?: Buffer }> {
    const deviceId = device.deviceId;
    let joined = false;
    try {
      const groupId = messageGroupId(message.ciphertext);
      if (message.welcome && !device.groups.has(groupId)) {
        const addressed = welcomeRecipients(message.welcome).some((ref) => device.secrets.has(ref));
        if (addressed) {
          const { group, usedRef } = await joinFromWelcome(message.welcome, device.secrets);
          // A one-time KeyPackage's private keys are forgotten once used; the last-resort stays.
          if (usedRef !== device.lastResortRef) device.secrets.delete(usedRef);
          device.groups.set(groupId, group);
          joined = true;
        }
      }
      const group = device.groups.get(groupId);
      if (!group) {
        const code: E2eeErrorCode = message.welcome ? 'NOT_IN_WELCOME' : 'UNKNOWN_GROUP';
        const kind: FailureKind = message.welcome ? 'key-negotiation' : 'decrypt';
        return { receipt: { deviceId, ok: false, joined, kind, code } };
      }
      const ciphertext = forced ? corrupt(message.ciphertext) : message.ciphertext;
      const result = await decrypt(group, ciphertext);
      device.groups.set(groupId, result.group);
      wipeConsumed(result.consumed);
      return { receipt: { deviceId, ok: true, joined }, plaintext: Buffer.from(result.plaintext) };
    } catch (err) {
      if (!isE2eeError(err)) throw err;
      return { receipt: { deviceId, ok: false, joined, kind: err.kind, code: err.code } };
    }
  }

  private serialised<T>(phone: Phone, work: () => Promise<T>): Promise<T> {
    const next = phone.queue.then(work, work);
    phone.queue = next.catch(() => undefined);
    return next;
  }
}

/** A copy with one bit of the AEAD ciphertext flipped: authentication must fail. */
function corrupt(ciphertext: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(ciphertext);
  const i = copy.length - 1;
  copy[i] = (copy[i] ?? 0) ^ 0x01;
  return copy;
}
