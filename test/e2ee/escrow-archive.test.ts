// The archive's gate, on PostgreSQL with real MLS: an escrowed tenant's message is archived
// only if the escrow member can read it, and otherwise refused with a code that says why.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createEscrow, escrowMemberOf } from '../../e2ee/escrow';
import type { EscrowRecord } from '../../e2ee/escrow';
import { EscrowArchiver, EscrowPolicyError } from '../../e2ee/escrow-archive';
import type { EscrowPolicyCode } from '../../e2ee/escrow-archive';
import { generateIdentity } from '../../e2ee/mls';
import { E2eeSender } from '../../e2ee/sender';
import { MemorySenderStateStore } from '../../e2ee/sender-state-store';
import { SandboxPhones } from '../../sandbox/phones';
import { EscrowStore } from '../../store/escrow-store';
import { freshNumber, openE2eeTestDb } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';

describe('escrow archive: archived before sending, or refused', () => {
  let env: E2eeTestDb;
  let store: EscrowStore;
  let archiver: EscrowArchiver;
  let record: EscrowRecord;
  let phones: SandboxPhones;

  const sender = async (escrowed: boolean) =>
    new E2eeSender({
      directory: env.directory,
      store: new MemorySenderStateStore(),
      identity: await generateIdentity(),
      escrow: escrowed ? escrowMemberOf(record) : null,
    });
  const number = async () => {
    const n = freshNumber();
    await phones.start(n);
    return n;
  };
  const refusedWith = (code: EscrowPolicyCode) => (err: unknown) =>
    err instanceof EscrowPolicyError && err.code === code;

  before(async () => {
    env = await openE2eeTestDb('switchboard_escrow_archive');
    store = new EscrowStore(env.testDb.db);
    archiver = new EscrowArchiver(store);
    phones = new SandboxPhones({ directory: env.directory, oneTimeBatch: 3 });
    record = (await createEscrow({ tenant: 'bank', threshold: 2, custodians: 2 })).record;
    await store.activate(record);
  });
  after(() => env?.testDb.drop());

  it('does nothing for a tenant without escrow', async () => {
    const s = await sender(false);
    const m = await s.encryptFor(await number(), 'x');
    assert.equal(await archiver.archive({ tenant: 'retail', messageId: randomUUID(), ...m }), null);
  });

  it('archives the first message with its Welcome and later ones by group; a retry adds nothing', async () => {
    const s = await sender(true);
    const to = await number();
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) {
      const m = await s.encryptFor(to, `text ${id}`);
      assert.equal(await archiver.archive({ tenant: 'bank', messageId: id, ...m }), record.escrowId);
      assert.equal(await archiver.archive({ tenant: 'bank', messageId: id, ...m }), record.escrowId);
    }
    const archived = await store.archived(record.escrowId, [...ids, randomUUID()]);
    assert.deepEqual(archived.map((a) => a.messageId).sort(), [...ids].sort());
    assert.deepEqual(await store.escrowsHolding('bank', ids), [record.escrowId]);
    assert.deepEqual(await store.escrowsHolding('other-tenant', ids), []);
  });

  it('refuses a group whose Welcome does not name the escrow member', async () => {
    const m = await (await sender(false)).encryptFor(await number(), 'x');
    await assert.rejects(
      archiver.archive({ tenant: 'bank', messageId: randomUUID(), ...m }),
      refusedWith('ESCROW_MEMBER_MISSING'),
    );
  });

  it('refuses a later message of a group whose Welcome was never archived', async () => {
    const s = await sender(true);
    const to = await number();
    await s.encryptFor(to, 'first, never archived');
    const second = await s.encryptFor(to, 'second');
    assert.equal(second.welcome, null);
    await assert.rejects(
      archiver.archive({ tenant: 'bank', messageId: randomUUID(), ...second }),
      refusedWith('ESCROW_WELCOME_MISSING'),
    );
  });

  it('refuses what is not an MLS message', async () => {
    await assert.rejects(
      archiver.archive({
        tenant: 'bank',
        messageId: randomUUID(),
        ciphertext: Buffer.from('nope'),
        welcome: null,
      }),
      refusedWith('ESCROW_MALFORMED_MESSAGE'),
    );
  });

  it('a new escrow retires the old one; the old archive stays where it was', async () => {
    const next = (await createEscrow({ tenant: 'bank', threshold: 2, custodians: 3 })).record;
    await store.activate(next);
    assert.equal((await store.activeEscrow('bank'))?.escrowId, next.escrowId);
    assert.equal((await store.byId(record.escrowId))?.escrowId, record.escrowId);
    // A group made for the old escrow member is no longer accepted.
    const m = await (await sender(true)).encryptFor(await number(), 'x');
    await assert.rejects(
      archiver.archive({ tenant: 'bank', messageId: randomUUID(), ...m }),
      refusedWith('ESCROW_MEMBER_MISSING'),
    );
  });
});
