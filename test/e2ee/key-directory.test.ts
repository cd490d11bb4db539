// The KeyPackage directory on a real PostgreSQL: one-time packages consumed atomically, the
// last-resort package returned but never consumed, numbers stored only as keyed hashes.

import assert from 'node:assert/strict';
import { KeyDirectoryError } from '../../e2ee/key-directory';
import { generateIdentity, generateKeyPackage } from '../../e2ee/mls';
import type { DeviceIdentity } from '../../e2ee/mls';
import { migrate } from '../../store/migrate';
import { freshNumber, openE2eeTestDb } from './e2ee-fixtures';
import type { E2eeTestDb } from './e2ee-fixtures';

async function batch(identity: DeviceIdentity, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push((await generateKeyPackage(identity)).keyPackage);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('PostgresKeyDirectory', () => {
  let env: E2eeTestDb;

  before(async () => {
    env = await openE2eeTestDb('switchboard_keydir');
  });
  after(() => env?.testDb.drop());

  it('is created by migration 6, and migrating again changes nothing', async () => {
    const { rows } = await env.testDb.db.query<{ id: number; name: string }>(
      'SELECT id, name FROM schema_migrations ORDER BY id',
    );
    assert.equal(rows.find((r) => r.id === 6)?.name, 'e2ee key packages');
    await migrate(env.testDb.db);
    const again = await env.testDb.db.query('SELECT id FROM schema_migrations');
    assert.equal(again.rowCount, rows.length);
  });

  it('one-time packages are consumed: a second claim gets another, then the last resort, again and again', async () => {
    const to = freshNumber();
    const id = await generateIdentity();
    const oneTime = await batch(id, 2);
    const [lastResort] = await batch(id, 1);
    await env.directory.publish(to, 'phone', { oneTime, lastResort });
    assert.equal(await env.directory.count(to), 2);

    const c1 = await env.directory.claim(to);
    const c2 = await env.directory.claim(to);
    assert.equal(c1.length, 1);
    assert.equal(c2.length, 1);
    assert.equal(c1[0]!.lastResort, false);
    assert.equal(c2[0]!.lastResort, false);
    assert.notEqual(hex(c1[0]!.keyPackage), hex(c2[0]!.keyPackage));
    assert.deepEqual(new Set([hex(c1[0]!.keyPackage), hex(c2[0]!.keyPackage)]), new Set(oneTime.map(hex)));
    assert.equal(await env.directory.count(to), 0);

    const c3 = await env.directory.claim(to);
    const c4 = await env.directory.claim(to);
    assert.deepEqual(
      [c3[0]?.lastResort, c4[0]?.lastResort, hex(c3[0]!.keyPackage), hex(c4[0]!.keyPackage)],
      [true, true, hex(lastResort!), hex(lastResort!)],
    );
    assert.deepEqual(await env.directory.inventory(to), [
      { deviceId: 'phone', oneTime: 0, lastResort: true },
    ]);
  });

  it('claims one package per device, and concurrent claims never share a one-time package', async () => {
    const to = freshNumber();
    const a = await generateIdentity();
    const b = await generateIdentity();
    await env.directory.publish(to, 'a', { oneTime: await batch(a, 6), lastResort: (await batch(a, 1))[0] });
    await env.directory.publish(to, 'b', { oneTime: await batch(b, 6), lastResort: (await batch(b, 1))[0] });

    const claims = await Promise.all(Array.from({ length: 6 }, () => env.directory.claim(to)));
    for (const c of claims)
      assert.deepEqual(
        c.map((k) => [k.deviceId, k.lastResort]),
        [
          ['a', false],
          ['b', false],
        ],
      );
    const all = claims.flat().map((k) => hex(k.keyPackage));
    assert.equal(new Set(all).size, 12, 'twelve distinct one-time packages');
    assert.equal(await env.directory.count(to), 0);
    assert.equal(await env.directory.count(to, 'a'), 0);
  });

  it('a republished last-resort package replaces the old one', async () => {
    const to = freshNumber();
    const id = await generateIdentity();
    const [old, next] = await batch(id, 2);
    await env.directory.publish(to, 'd', { lastResort: old });
    await env.directory.publish(to, 'd', { lastResort: next });
    const c = await env.directory.claim(to);
    assert.deepEqual(
      c.map((k) => [hex(k.keyPackage), k.lastResort]),
      [[hex(next!), true]],
    );
  });

  it('stores no number, only its keyed hash', async () => {
    const to = freshNumber();
    const id = await generateIdentity();
    await env.directory.publish(to, 'd', { oneTime: await batch(id, 1) });
    const { rows } = await env.testDb.db.query<{ row: string }>(
      'SELECT row_to_json(k)::text AS row FROM e2ee_key_packages k',
    );
    assert.ok(rows.length > 0);
    const digits = to.slice(1);
    for (const r of rows) assert.ok(!r.row.includes(digits), 'no row carries the number');
    assert.equal(env.directory.hashMsisdn(to).length, 64);
    assert.equal(await env.directory.hasKeyPackages(to), true);
    assert.equal(await env.directory.hasKeyPackages(freshNumber()), false);
  });

  it('refuses invalid device ids and duplicate packages; removeDevice forgets a device', async () => {
    const to = freshNumber();
    const id = await generateIdentity();
    const [kp] = await batch(id, 1);
    await assert.rejects(
      env.directory.publish(to, 'bad id with spaces', { oneTime: [kp!] }),
      (err: unknown) => err instanceof KeyDirectoryError && err.code === 'INVALID_DEVICE_ID',
    );
    await env.directory.publish(to, 'd', { oneTime: [kp!] });
    await assert.rejects(
      env.directory.publish(to, 'd', { oneTime: [kp!] }),
      (err: unknown) => err instanceof KeyDirectoryError && err.code === 'DUPLICATE_KEY_PACKAGE',
    );
    assert.equal(await env.directory.removeDevice(to, 'd'), 1);
    assert.deepEqual(await env.directory.claim(to), []);
  });
});
