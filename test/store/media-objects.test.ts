import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  MediaObjectInputError,
  MediaObjectIntegrityError,
  MediaObjectNotFoundError,
  MediaObjectStore,
} from '../../store/media-objects';
import { stack } from '../fixtures/stack';

describe('media objects (the claim check), on PostgreSQL', () => {
  const kek = randomBytes(32);
  // Near the real time: purgeExpired must not reach the day-long uploads other suites made.
  let clock = new Date();
  const store = () => new MediaObjectStore({ db: stack().db, kek, ttlSeconds: 60, now: () => clock });
  const file = () => ({
    tenant: 'acme',
    data: randomBytes(300),
    contentType: 'image/png',
    fileName: 'pass.png',
  });

  it('loads what was put, for its own tenant only', async () => {
    const upload = file();
    const stored = await store().put(upload);
    const loaded = await store().load(stored.mediaId, 'acme');
    assert.ok(loaded.data.equals(upload.data));
    assert.equal(loaded.fileName, 'pass.png');
    assert.equal(loaded.sha256, stored.sha256);
    await assert.rejects(store().load(stored.mediaId, 'default'), MediaObjectNotFoundError);
    await assert.rejects(store().load('A'.repeat(24), 'acme'), MediaObjectNotFoundError);
    await assert.rejects(store().load('not an id', 'acme'), MediaObjectNotFoundError);
  });

  it('needs its KEK: a store with another one cannot open the file', async () => {
    const stored = await store().put(file());
    const other = new MediaObjectStore({
      db: stack().db,
      kek: randomBytes(32),
      ttlSeconds: 60,
      now: () => clock,
    });
    await assert.rejects(other.load(stored.mediaId, 'acme'), MediaObjectIntegrityError);
  });

  it('a row moved to another tenant fails authentication', async () => {
    const stored = await store().put({ ...file(), tenant: 'moved-from' });
    await stack().db.query(`UPDATE media_objects SET tenant = 'moved-to' WHERE tenant = 'moved-from'`);
    await assert.rejects(store().load(stored.mediaId, 'moved-to'), MediaObjectIntegrityError);
  });

  it('expires after its TTL, and purgeExpired deletes the expired ones only', async () => {
    const old = await store().put(file());
    clock = new Date(clock.getTime() + 30_000);
    const young = await store().put(file());
    clock = new Date(clock.getTime() + 31_000); // old is 61 s old, young 31 s
    await assert.rejects(store().load(old.mediaId, 'acme'), MediaObjectNotFoundError);
    const purged = await store().purgeExpired();
    assert.ok(purged >= 1);
    const { rows } = await stack().db.query<{ n: string }>(
      `SELECT count(*) AS n FROM media_objects WHERE expires_at <= $1`,
      [clock],
    );
    assert.equal(Number(rows[0]?.n), 0);
    assert.ok((await store().load(young.mediaId, 'acme')).data.length === 300);
  });

  it('refuses bad input naming the field', async () => {
    await assert.rejects(store().put({ ...file(), data: Buffer.alloc(0) }), /^MediaObjectInputError: data:/);
    await assert.rejects(store().put({ ...file(), tenant: 'A B' }), /^MediaObjectInputError: tenant:/);
    await assert.rejects(store().put({ ...file(), fileName: 'a/b' }), MediaObjectInputError);
    assert.throws(() => new MediaObjectStore({ db: stack().db, kek: Buffer.alloc(8), ttlSeconds: 1 }), /kek/);
  });
});
