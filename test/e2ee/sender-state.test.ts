// The sending app's MLS state at rest: encrypted under the app's key, written atomically,
// persisted before a ciphertext is returned, and enough to continue a group after a restart
// without reusing a key generation.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from '../../e2ee/bytes';
import { decodeGroup } from '../../e2ee/mls';
import { E2eeSender, loadOrCreateSenderIdentity } from '../../e2ee/sender';
import { FileSenderStateStore, SenderStateError } from '../../e2ee/sender-state-store';
import type { SenderStateStore } from '../../e2ee/sender-state-store';
import { SandboxPhones } from '../../sandbox/phones';
import { freshNumber, openE2eeTestDb, text } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';

/** Wraps a store: remembers what was saved (plaintext, for the test's eyes only), can fail. */
class SpyStore implements SenderStateStore {
  saved: Uint8Array[] = [];
  failNextSave = false;
  constructor(private readonly inner: SenderStateStore) {}
  load(k: string) {
    return this.inner.load(k);
  }
  async save(k: string, s: Uint8Array) {
    if (this.failNextSave) {
      this.failNextSave = false;
      throw new Error('disk full');
    }
    await this.inner.save(k, s);
    this.saved.push(Uint8Array.from(s));
  }
  delete(k: string) {
    return this.inner.delete(k);
  }
}

const contains = (hay: Buffer, needle: Uint8Array): boolean => hay.indexOf(Buffer.from(needle)) !== -1;

describe('Sender state: encrypted at rest, persisted before use, survives a restart', () => {
  let env: E2eeTestDb;
  let phones: SandboxPhones;
  let dir: string;
  let appKey: Buffer;

  before(async () => {
    env = await openE2eeTestDb('switchboard_e2ee_state');
    phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 3, lowWatermark: 1 });
  });
  after(() => env?.testDb.drop());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-sender-state-'));
    appKey = randomBytes(32);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a restarted sender continues the group from its store; the phone decrypts', async () => {
    const to = freshNumber();
    await phones.start(to);

    const store1 = new FileSenderStateStore({ dir, key: appKey });
    const identity1 = await loadOrCreateSenderIdentity(store1);
    const sender1 = new E2eeSender({ directory: env.directory, store: store1, identity: identity1 });
    const m1 = await sender1.encryptFor(to, 'one');
    const m2 = await sender1.encryptFor(to, 'two');
    assert.equal((await phones.receive(to, { ciphertext: m1.ciphertext, welcome: m1.welcome })).ok, true);
    assert.equal((await phones.receive(to, { ciphertext: m2.ciphertext })).ok, true);

    // "Restart": a new store object and a new sender over the same directory and key.
    const store2 = new FileSenderStateStore({ dir, key: appKey });
    const identity2 = await loadOrCreateSenderIdentity(store2);
    assert.equal(identity2.id, identity1.id);
    const sender2 = new E2eeSender({ directory: env.directory, store: store2, identity: identity2 });
    assert.equal(await sender2.hasGroup(to), true);
    const m3 = await sender2.encryptFor(to, 'three');
    assert.equal(m3.welcome, null, 'same group, no new Welcome');
    assert.equal(m3.groupId, m1.groupId);
    const r3 = await phones.receive(to, { ciphertext: m3.ciphertext });
    assert.equal(r3.ok && text(r3.plaintext), 'three', 'a reused generation would be refused');
  });

  it('going back to an older state would reuse a generation: the phone refuses it', async () => {
    // Why the state must be saved before the ciphertext leaves: this is the failure it prevents.
    const to = freshNumber();
    await phones.start(to);
    const spy = new SpyStore(new FileSenderStateStore({ dir, key: appKey }));
    const identity = await loadOrCreateSenderIdentity(spy);
    const sender = new E2eeSender({ directory: env.directory, store: spy, identity });
    const m1 = await sender.encryptFor(to, 'one');
    const afterFirst = spy.saved.at(-1)!;
    const m2 = await sender.encryptFor(to, 'two');
    assert.equal((await phones.receive(to, { ciphertext: m1.ciphertext, welcome: m1.welcome })).ok, true);
    assert.equal((await phones.receive(to, { ciphertext: m2.ciphertext })).ok, true);

    const rolledBack = new FileSenderStateStore({ dir: join(dir, 'rollback'), key: appKey });
    const stale = new E2eeSender({ directory: env.directory, store: rolledBack, identity });
    // Plant the stale state under the same group key the sender uses.
    await rolledBack.save(stale.groupKey(to), afterFirst);
    const reused = await stale.encryptFor(to, 'two again');
    const r = await phones.receive(to, { ciphertext: reused.ciphertext });
    assert.equal(!r.ok && r.code, 'GENERATION_REUSED');
  });

  it('a failed save returns no ciphertext and leaves the group usable', async () => {
    const to = freshNumber();
    await phones.start(to);
    const spy = new SpyStore(new FileSenderStateStore({ dir, key: appKey }));
    const sender = new E2eeSender({
      directory: env.directory,
      store: spy,
      identity: await loadOrCreateSenderIdentity(spy),
    });
    const m1 = await sender.encryptFor(to, 'one');
    assert.equal((await phones.receive(to, { ciphertext: m1.ciphertext, welcome: m1.welcome })).ok, true);
    spy.failNextSave = true;
    await assert.rejects(sender.encryptFor(to, 'never sent'), /disk full/);
    const m2 = await sender.encryptFor(to, 'two');
    const r = await phones.receive(to, { ciphertext: m2.ciphertext });
    assert.equal(r.ok && text(r.plaintext), 'two');
  });

  it('on disk: no plaintext state, no group secrets, no marker, no number; wrong key or tampering is refused', async () => {
    const to = freshNumber();
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    await phones.start(to);
    const file = new FileSenderStateStore({ dir, key: appKey });
    const spy = new SpyStore(file);
    const identity = await loadOrCreateSenderIdentity(spy);
    const sender = new E2eeSender({ directory: env.directory, store: spy, identity });
    await sender.encryptFor(to, `${marker} one`);
    await sender.encryptFor(to, `${marker} two`);

    // The secrets that a plaintext state would hold.
    const record = unpack('SBG1', spy.saved.at(-1)!, 2);
    assert.ok(record);
    const group = decodeGroup(record[0]!);
    const secrets = [
      group.signaturePrivateKey,
      group.keySchedule.senderDataSecret,
      group.keySchedule.exporterSecret,
      group.keySchedule.initSecret,
      group.keySchedule.membershipKey,
      identity.signaturePrivateKey,
    ];
    const plainRecord = Buffer.from(spy.saved.at(-1)!);
    assert.ok(
      secrets.every((s) => contains(plainRecord, s)),
      'the unencrypted record does hold them',
    );
    assert.ok(contains(plainRecord, Buffer.from(identity.id)));

    const names = await readdir(dir);
    assert.equal(names.length, 2, 'identity and one group, no temp files left behind');
    const digits = to.slice(1);
    for (const name of names) {
      assert.ok(!name.includes(digits) && !name.endsWith('.tmp'));
      const bytes = await readFile(join(dir, name));
      assert.ok(!bytes.includes(marker));
      assert.ok(!bytes.includes(digits));
      assert.ok(!bytes.includes(identity.id));
      for (const s of secrets) assert.ok(!contains(bytes, s), 'no secret bytes on disk');
      assert.ok(!contains(bytes, record[0]!.subarray(0, 64)), 'no plaintext state');
    }

    const wrongKey = new FileSenderStateStore({ dir, key: randomBytes(32) });
    const groupKey = sender.groupKey(to);
    const groupFile = file.pathFor(groupKey);
    const wrongPath = wrongKey.pathFor(groupKey);
    assert.notEqual(wrongPath, groupFile, 'file names are keyed too');
    await writeFile(wrongPath, await readFile(groupFile));
    await assert.rejects(
      wrongKey.load(groupKey),
      (err: unknown) => err instanceof SenderStateError && err.code === 'WRONG_KEY_OR_TAMPERED',
    );
    const tampered = await readFile(groupFile);
    tampered[tampered.length - 1]! ^= 1;
    await writeFile(groupFile, tampered);
    await assert.rejects(
      file.load(groupKey),
      (err: unknown) => err instanceof SenderStateError && err.code === 'WRONG_KEY_OR_TAMPERED',
    );
  });
});
