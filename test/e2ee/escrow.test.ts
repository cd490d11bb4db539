// Escrowed keys: an escrow member in every group of an escrowed tenant, its private material
// sealed under a key split k-of-n. k−1 shares open nothing; k shares open exactly the named
// messages.

import assert from 'node:assert/strict';
import { combine } from 'shamir-secret-sharing';
import {
  EscrowError,
  createEscrow,
  decodeEscrowRecord,
  decodeEscrowShare,
  decryptEscrowed,
  encodeEscrowRecord,
  encodeEscrowShare,
  escrowMemberOf,
  reconstructEscrowKey,
} from '../../e2ee/escrow';
import type { EscrowRecord, EscrowShare, EscrowedMessage } from '../../e2ee/escrow';
import { generateIdentity, keyPackageRef, welcomeRecipients } from '../../e2ee/mls';
import { E2eeSender } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { SandboxPhones } from '../../sandbox/phones';
import { freshNumber, openE2eeTestDb, text } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';

describe('Escrow: k-of-n custodians, exactly the named messages', () => {
  let env: E2eeTestDb;
  let phones: SandboxPhones;
  let record: EscrowRecord;
  let shares: EscrowShare[];
  /** What an escrow archive keeps for the tenant: Welcome + ciphertext per message. */
  const archive: EscrowedMessage[] = [];
  const sentText = new Map<string, string>();
  let alice: string;
  let bob: string;

  before(async () => {
    env = await openE2eeTestDb('switchboard_e2ee_escrow');
    phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 3 });
    const created = await createEscrow({ tenant: 'regulated-bank', threshold: 3, custodians: 5 });
    // The record goes through its storage form, as the integrating code would keep it.
    record = decodeEscrowRecord(encodeEscrowRecord(created.record));
    shares = created.shares.map((s) => decodeEscrowShare(encodeEscrowShare(s)));

    const sender = new E2eeSender({
      directory: env.directory,
      store: new MemorySenderStateStore(),
      identity: await generateIdentity(),
      escrow: escrowMemberOf(record),
    });
    alice = freshNumber();
    bob = freshNumber();
    await phones.start(alice);
    await phones.start(bob, { devices: 2 });
    const welcomes = new Map<string, Uint8Array>();
    const plan: [string, string, string][] = [
      ['m1', alice, 'alice one'],
      ['m2', alice, 'alice two'],
      ['m3', bob, 'bob one'],
      ['m4', alice, 'alice three'],
      ['m5', bob, 'bob two'],
    ];
    for (const [messageId, to, body] of plan) {
      const sent = await sender.encryptFor(to, body);
      assert.equal(sent.escrowed, true);
      if (sent.welcome) welcomes.set(to, sent.welcome);
      const r = await phones.receive(to, { ciphertext: sent.ciphertext, welcome: sent.welcome, messageId });
      assert.equal(r.ok && text(r.plaintext), body, 'the recipient still decrypts');
      archive.push({ messageId, welcome: welcomes.get(to)!, ciphertext: sent.ciphertext });
      sentText.set(messageId, body);
    }
  });
  after(() => env?.testDb.drop());

  it('the escrow member is in every group, next to the recipient devices', async () => {
    assert.equal(record.threshold, 3);
    assert.equal(shares.length, 5);
    const escrowRef = await keyPackageRef(record.keyPackages[0]!);
    // One Welcome per group: Alice's names her device and escrow, Bob's his two devices and escrow.
    const aliceWelcome = archive.find((m) => m.messageId === 'm1')!.welcome;
    const bobWelcome = archive.find((m) => m.messageId === 'm3')!.welcome;
    assert.equal(welcomeRecipients(aliceWelcome).length, 2);
    assert.equal(welcomeRecipients(bobWelcome).length, 3);
    assert.ok(welcomeRecipients(aliceWelcome).includes(escrowRef));
    assert.ok(welcomeRecipients(bobWelcome).includes(escrowRef));
  });

  it('k−1 shares: reconstruction refused, and their Shamir combination opens nothing', async () => {
    const few = [shares[0]!, shares[3]!];
    await assert.rejects(
      reconstructEscrowKey(few, record),
      (err: unknown) =>
        err instanceof EscrowError && err.code === 'INSUFFICIENT_SHARES' && err.validShares === 2,
    );
    const wrongKey = await combine(few.map((s) => s.share));
    await assert.rejects(
      decryptEscrowed(archive, wrongKey, record),
      (err: unknown) => err instanceof EscrowError && err.code === 'UNSEAL_FAILED',
    );
  });

  it('a tampered, repeated or foreign share does not count toward k', async () => {
    const tampered = { ...shares[1]!, share: Uint8Array.from(shares[1]!.share) };
    tampered.share[0]! ^= 1;
    const foreign = { ...shares[2]!, escrowId: 'someone-else' };
    await assert.rejects(
      reconstructEscrowKey([shares[0]!, shares[0]!, tampered, foreign], record),
      (err: unknown) =>
        err instanceof EscrowError && err.code === 'INSUFFICIENT_SHARES' && err.validShares === 1,
    );
  });

  it('k shares decrypt exactly the named messages, in any order, across groups', async () => {
    const key = await reconstructEscrowKey([shares[4]!, shares[1]!, shares[2]!], record);
    const named = ['m4', 'm3', 'm2'];
    const result = await decryptEscrowed(
      named.map((id) => archive.find((m) => m.messageId === id)!),
      key,
      record,
    );
    assert.deepEqual(
      result.map((r) => [r.messageId, r.ok && text(r.plaintext)]),
      named.map((id) => [id, sentText.get(id)]),
    );
    // Any other k-subset yields the same key.
    const other = await reconstructEscrowKey([shares[0]!, shares[3]!, shares[2]!], record);
    assert.deepEqual(Buffer.from(other), Buffer.from(key));
  });

  it('a message of a group without the escrow member: NOT_ESCROWED', async () => {
    const to = freshNumber();
    await phones.start(to);
    const plain = new E2eeSender({
      directory: env.directory,
      store: new MemorySenderStateStore(),
      identity: await generateIdentity(),
    });
    const sent = await plain.encryptFor(to, 'not escrowed');
    assert.equal(sent.escrowed, false);
    const key = await reconstructEscrowKey(shares.slice(0, 3), record);
    const [r] = await decryptEscrowed(
      [{ messageId: 'x', welcome: sent.welcome!, ciphertext: sent.ciphertext }],
      key,
      record,
    );
    assert.deepEqual(r, { messageId: 'x', ok: false, code: 'NOT_ESCROWED' });
  });

  it('refuses impossible parameters', async () => {
    await assert.rejects(
      createEscrow({ tenant: 't', threshold: 4, custodians: 3 }),
      (err: unknown) => err instanceof EscrowError && err.code === 'INVALID_PARAMETERS',
    );
    await assert.rejects(
      createEscrow({ tenant: 't', threshold: 1, custodians: 3 }),
      (err: unknown) => err instanceof EscrowError && err.code === 'INVALID_PARAMETERS',
    );
  });
});
