// The sending app's MLS state, kept client-side in a store the app owns. The file-backed store
// encrypts every entry at rest with AES-256-GCM under the app's own key (never Switchboard's),
// names files by a keyed hash of the group key (so a directory listing names no recipient), and
// writes atomically: temp file, fsync, rename, fsync of the directory. A crash leaves either the
// old state or the new one, never a torn file.

import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface SenderStateStore {
  /** The bytes last saved under this key, or null. */
  load(groupKey: string): Promise<Uint8Array | null>;
  /** Durable when the promise resolves. */
  save(groupKey: string, state: Uint8Array): Promise<void>;
  delete(groupKey: string): Promise<void>;
}

/** Never carries a key, a group key or state bytes: a caller may log it. */
export class SenderStateError extends Error {
  override readonly name = 'SenderStateError';
  constructor(readonly code: 'MALFORMED' | 'WRONG_KEY_OR_TAMPERED') {
    super(`sender state: ${code}`);
  }
}

const MAGIC = Buffer.from('SBS1', 'latin1');
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

export interface FileSenderStateStoreOptions {
  /** Created (mode 0700) on first use. */
  dir: string;
  /** The app's 32-byte key. Encryption and file-name keys are derived from it with HKDF. */
  key: Uint8Array;
}

export class FileSenderStateStore implements SenderStateStore {
  private readonly dir: string;
  private readonly encKey: Buffer;
  private readonly nameKey: Buffer;
  private ready: Promise<unknown> | undefined;

  constructor(options: FileSenderStateStoreOptions) {
    if (options.key.length !== 32) throw new Error('sender state key must be 32 bytes');
    this.dir = options.dir;
    this.encKey = Buffer.from(
      hkdfSync('sha256', options.key, MAGIC, 'switchboard sender-state encryption', 32),
    );
    this.nameKey = Buffer.from(
      hkdfSync('sha256', options.key, MAGIC, 'switchboard sender-state file names', 32),
    );
  }

  /** The file holding a group key's state (for tests and operators; names no recipient). */
  pathFor(groupKey: string): string {
    return join(this.dir, `${this.nameOf(groupKey)}.mls`);
  }

  async load(groupKey: string): Promise<Uint8Array | null> {
    let blob: Buffer;
    try {
      blob = await readFile(this.pathFor(groupKey));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return this.open(this.nameOf(groupKey), blob);
  }

  async save(groupKey: string, state: Uint8Array): Promise<void> {
    await this.ensureDir();
    const name = this.nameOf(groupKey);
    const blob = this.seal(name, state);
    const final = join(this.dir, `${name}.mls`);
    const tmp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(blob);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, final);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await this.syncDir();
  }

  async delete(groupKey: string): Promise<void> {
    try {
      await unlink(this.pathFor(groupKey));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return;
    }
    await this.syncDir();
  }

  private nameOf(groupKey: string): string {
    return createHmac('sha256', this.nameKey).update(groupKey).digest('hex');
  }

  /** MAGIC ‖ iv ‖ tag ‖ AES-256-GCM(state), with MAGIC ‖ file name as associated data. */
  private seal(name: string, state: Uint8Array): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    cipher.setAAD(Buffer.concat([MAGIC, Buffer.from(name, 'latin1')]));
    const ct = Buffer.concat([cipher.update(state), cipher.final()]);
    return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), ct]);
  }

  private open(name: string, blob: Buffer): Uint8Array {
    if (
      blob.length < MAGIC.length + IV_LENGTH + TAG_LENGTH ||
      !blob.subarray(0, MAGIC.length).equals(MAGIC)
    ) {
      throw new SenderStateError('MALFORMED');
    }
    const iv = blob.subarray(MAGIC.length, MAGIC.length + IV_LENGTH);
    const tag = blob.subarray(MAGIC.length + IV_LENGTH, MAGIC.length + IV_LENGTH + TAG_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, iv);
    decipher.setAAD(Buffer.concat([MAGIC, Buffer.from(name, 'latin1')]));
    decipher.setAuthTag(tag);
    try {
      const pt = Buffer.concat([
        decipher.update(blob.subarray(MAGIC.length + IV_LENGTH + TAG_LENGTH)),
        decipher.final(),
      ]);
      return new Uint8Array(pt.buffer, pt.byteOffset, pt.length);
    } catch {
      throw new SenderStateError('WRONG_KEY_OR_TAMPERED');
    }
  }

  private ensureDir(): Promise<unknown> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async syncDir(): Promise<void> {
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

/** In-memory store for tests and short-lived tools; holds state unencrypted in memory. */
export class MemorySenderStateStore implements SenderStateStore {
  private readonly entries = new Map<string, Uint8Array>();

  load(groupKey: string): Promise<Uint8Array | null> {
    const v = this.entries.get(groupKey);
    return Promise.resolve(v ? Uint8Array.from(v) : null);
  }

  save(groupKey: string, state: Uint8Array): Promise<void> {
    this.entries.set(groupKey, Uint8Array.from(state));
    return Promise.resolve();
  }

  delete(groupKey: string): Promise<void> {
    this.entries.delete(groupKey);
    return Promise.resolve();
  }
}
