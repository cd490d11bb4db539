// End to end through the E2EE library on real parts: KeyPackages published by sandbox phones to
// the PostgreSQL key directory, claimed by an E2eeSender, groups created and joined from real
// Welcomes, messages decrypted on every device.

import assert from 'node:assert/strict';
import {
  E2eeKeyNegotiationError,
  createGroupWith,
  generateIdentity,
  generateKeyPackage,
  memberIds,
  welcomeRecipients,
} from '../../e2ee/mls';
import type { DeviceIdentity } from '../../e2ee/mls';
import type { ClaimedKeyPackage } from '../../e2ee/key-directory';
import { E2eeSender } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { SandboxPhones } from '../../sandbox/phones';
import { freshNumber, openE2eeTestDb, text } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';

describe('E2EE delivery to sandbox phones (MLS, real key directory)', () => {
  let env: E2eeTestDb;
  let phones: SandboxPhones;
  let identity: DeviceIdentity;
  let sender: E2eeSender;

  before(async () => {
    env = await openE2eeTestDb('switchboard_e2ee');
    identity = await generateIdentity();
  });
  after(() => env?.testDb.drop());
  beforeEach(() => {
    phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 4, lowWatermark: 2 });
    sender = new E2eeSender({ directory: env.directory, store: new MemorySenderStateStore(), identity });
  });

  it('first message carries a Welcome and decrypts; the second reuses the group without one', async () => {
    const to = freshNumber();
    assert.equal(await phones.ensure(to), true);

    const first = await sender.encryptFor(to, 'first secret message');
    assert.ok(first.welcome, 'first message has a Welcome');
    assert.equal(first.newGroup, true);
    assert.equal(first.devices, 1);
    assert.equal(first.epoch, 1);
    assert.ok(first.negotiationMs > 0);
    assert.ok(!first.ciphertext.includes('first secret message'));
    const r1 = await phones.receive(to, {
      ciphertext: first.ciphertext,
      welcome: first.welcome,
      messageId: 'm1',
    });
    assert.equal(r1.ok, true);
    assert.equal(r1.ok && text(r1.plaintext), 'first secret message');

    const second = await sender.encryptFor(to, 'second secret message');
    assert.equal(second.welcome, null);
    assert.equal(second.newGroup, false);
    assert.equal(second.groupId, first.groupId);
    const r2 = await phones.receive(to, { ciphertext: second.ciphertext, messageId: 'm2' });
    assert.equal(r2.ok && text(r2.plaintext), 'second secret message');

    const inbox = phones.inbox(to);
    assert.deepEqual(
      inbox.map((e) => [e.messageId, e.welcome, e.ok, e.plaintext && text(e.plaintext)]),
      [
        ['m1', true, true, 'first secret message'],
        ['m2', false, true, 'second secret message'],
      ],
    );
  });

  it('a multi-device recipient: one Welcome for both devices, both decrypt', async () => {
    const to = freshNumber();
    const devices = await phones.start(to, { devices: 2 });
    assert.equal(devices.length, 2);

    const first = await sender.encryptFor(to, 'to both devices');
    assert.equal(first.devices, 2);
    assert.ok(first.welcome);
    assert.equal(welcomeRecipients(first.welcome).length, 2);
    const r1 = await phones.receive(to, { ciphertext: first.ciphertext, welcome: first.welcome });
    assert.equal(r1.ok, true);
    assert.deepEqual(
      r1.devices.map((d) => [d.deviceId, d.ok, d.joined]),
      devices.map((d) => [d, true, true]),
    );

    const second = await sender.encryptFor(to, 'still both');
    const r2 = await phones.receive(to, { ciphertext: second.ciphertext });
    assert.equal(r2.ok && text(r2.plaintext), 'still both');
    assert.equal(r2.devices.filter((d) => d.ok).length, 2);
  });

  it('concurrent sends to a new recipient negotiate one group, and every message decrypts', async () => {
    const to = freshNumber();
    await phones.start(to);
    const sent = await Promise.all([0, 1, 2, 3, 4].map((i) => sender.encryptFor(to, `concurrent ${i}`)));
    assert.equal(sent.filter((m) => m.welcome).length, 1);
    assert.equal(new Set(sent.map((m) => m.groupId)).size, 1);
    assert.equal(await env.directory.count(to), 3, 'one KeyPackage claimed, not five');
    for (const [i, m] of sent.entries()) {
      const r = await phones.receive(to, { ciphertext: m.ciphertext, welcome: m.welcome });
      assert.equal(r.ok && text(r.plaintext), `concurrent ${i}`);
    }
  });

  it('a forced decrypt failure gives a typed code, and the group still works afterwards', async () => {
    const to = freshNumber();
    await phones.start(to);
    const first = await sender.encryptFor(to, 'before the fault');
    assert.equal(
      (await phones.receive(to, { ciphertext: first.ciphertext, welcome: first.welcome })).ok,
      true,
    );

    phones.failDecryptFor(to);
    const second = await sender.encryptFor(to, 'lost to the fault');
    const failed = await phones.receive(to, { ciphertext: second.ciphertext });
    assert.deepEqual(
      { ok: failed.ok, kind: !failed.ok && failed.kind, code: !failed.ok && failed.code },
      { ok: false, kind: 'decrypt', code: 'DECRYPT_FAILED' },
    );
    assert.equal(phones.inbox(to).at(-1)?.plaintext, undefined);

    phones.clearFaults(to);
    const third = await sender.encryptFor(to, 'after the fault');
    const ok = await phones.receive(to, { ciphertext: third.ciphertext });
    assert.equal(ok.ok && text(ok.plaintext), 'after the fault');
  });

  it('a replayed ciphertext is refused with GENERATION_REUSED', async () => {
    const to = freshNumber();
    await phones.start(to);
    const first = await sender.encryptFor(to, 'once only');
    assert.equal(
      (await phones.receive(to, { ciphertext: first.ciphertext, welcome: first.welcome })).ok,
      true,
    );
    const replay = await phones.receive(to, { ciphertext: first.ciphertext });
    assert.equal(!replay.ok && replay.code, 'GENERATION_REUSED');
  });

  it('more than 200 lost messages: GENERATION_TOO_FAR, and resetGroup renegotiates', async () => {
    const to = freshNumber();
    await phones.start(to);
    const first = await sender.encryptFor(to, 'm0');
    assert.equal(
      (await phones.receive(to, { ciphertext: first.ciphertext, welcome: first.welcome })).ok,
      true,
    );
    let last = first;
    for (let i = 0; i < 250; i++) last = await sender.encryptFor(to, `lost ${i}`);
    const far = await phones.receive(to, { ciphertext: last.ciphertext });
    assert.equal(!far.ok && far.code, 'GENERATION_TOO_FAR');

    await sender.resetGroup(to);
    const fresh = await sender.encryptFor(to, 'after resync');
    assert.ok(fresh.welcome);
    assert.notEqual(fresh.groupId, first.groupId);
    const ok = await phones.receive(to, { ciphertext: fresh.ciphertext, welcome: fresh.welcome });
    assert.equal(ok.ok && text(ok.plaintext), 'after resync');
  });

  it('phones replenish their one-time KeyPackages when they run low', async () => {
    const to = freshNumber();
    const [device] = await phones.start(to);
    assert.equal(await env.directory.count(to), 4);
    // Three other senders each claim one: 1 left, below the watermark of 2.
    const others = [];
    for (let i = 0; i < 3; i++) {
      const s = new E2eeSender({
        directory: env.directory,
        store: new MemorySenderStateStore(),
        identity: await generateIdentity(),
      });
      others.push(await s.encryptFor(to, `hello ${i}`));
    }
    assert.equal(await env.directory.count(to), 1);
    const r = await phones.receive(to, { ciphertext: others[0]!.ciphertext, welcome: others[0]!.welcome });
    assert.equal(r.ok, true);
    assert.equal(await env.directory.count(to, device), 5, 'a batch of 4 was published');
    assert.equal(await phones.replenish(to), 0, 'nothing to do above the watermark');
  });

  it('a restarted sandbox withdraws the KeyPackages its previous run left behind', async () => {
    const to = freshNumber();
    const [old] = await phones.start(to);
    const restarted = new SandboxPhones({ directory: env.directory, oneTimeBatch: 4, lowWatermark: 2 });
    const [fresh] = await restarted.start(to);
    const inventory = await env.directory.inventory(to);
    assert.deepEqual(inventory, [{ deviceId: fresh, oneTime: 4, lastResort: true }]);
    assert.notEqual(fresh, old);
  });

  it('no KeyPackages for the number: NO_KEY_PACKAGES', async () => {
    const to = freshNumber('+1555020');
    assert.equal(await phones.ensure(to), false, 'not an E2EE number in the plan');
    await assert.rejects(
      sender.encryptFor(to, 'nobody to read this'),
      (err: unknown) => err instanceof E2eeKeyNegotiationError && err.code === 'NO_KEY_PACKAGES',
    );
    assert.equal(await sender.hasGroup(to), false);
  });

  it('bad KeyPackages: refused by the directory, skipped or refused by the sender', async () => {
    const to = freshNumber();
    await assert.rejects(
      env.directory.publish(to, 'dev1', { oneTime: [new Uint8Array([0, 1, 2, 3])] }),
      (err: unknown) => err instanceof E2eeKeyNegotiationError && err.code === 'BAD_KEY_PACKAGE',
    );
    const good = await generateKeyPackage(await generateIdentity());
    const tampered = Uint8Array.from(good.keyPackage);
    tampered[tampered.length - 5]! ^= 0xff; // inside the signature
    const stub = (claimed: ClaimedKeyPackage[]) => ({ claim: () => Promise.resolve(claimed) });

    const allBad = new E2eeSender({
      directory: stub([{ deviceId: 'a', keyPackage: tampered, lastResort: false }]),
      store: new MemorySenderStateStore(),
      identity,
    });
    await assert.rejects(
      allBad.encryptFor(to, 'x'),
      (err: unknown) => err instanceof E2eeKeyNegotiationError && err.code === 'BAD_KEY_PACKAGE',
    );

    const oneBad = new E2eeSender({
      directory: stub([
        { deviceId: 'a', keyPackage: tampered, lastResort: false },
        { deviceId: 'b', keyPackage: good.keyPackage, lastResort: false },
      ]),
      store: new MemorySenderStateStore(),
      identity,
    });
    const sent = await oneBad.encryptFor(to, 'x');
    assert.equal(sent.devices, 1);
    assert.equal(sent.skippedKeyPackages, 1);

    await assert.rejects(
      createGroupWith(identity, []),
      (err: unknown) => err instanceof E2eeKeyNegotiationError && err.code === 'NO_KEY_PACKAGES',
    );
  });

  it('a Welcome that names none of the devices: NOT_IN_WELCOME, a key-negotiation failure', async () => {
    const to = freshNumber();
    await phones.start(to);
    const stranger = await generateKeyPackage(await generateIdentity());
    const created = await createGroupWith(identity, [stranger.keyPackage]);
    assert.deepEqual(memberIds(created.group).length, 2);
    const s = new E2eeSender({
      directory: {
        claim: () => Promise.resolve([{ deviceId: 'x', keyPackage: stranger.keyPackage, lastResort: false }]),
      },
      store: new MemorySenderStateStore(),
      identity,
    });
    const sent = await s.encryptFor(to, 'misaddressed');
    const r = await phones.receive(to, { ciphertext: sent.ciphertext, welcome: sent.welcome });
    assert.deepEqual(!r.ok && [r.kind, r.code], ['key-negotiation', 'NOT_IN_WELCOME']);
  });
});
