// ShortlinkStore on a real PostgreSQL: a database of its own, migrated by the production migrate(),
// dropped afterwards. Time is the store's injected clock.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AuditLog } from '../../store/audit-log';
import type { Database } from '../../store/database';
import {
  CodeDeliveryError,
  ShortlinkGoneError,
  ShortlinkInputError,
  ShortlinkIntegrityError,
  ShortlinkNotFoundError,
  ShortlinkStore,
  TooManyAttemptsError,
  WrongCodeError,
} from '../../store/shortlinks';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { HASH_KEY, T0, makePng, makeStore, newMessageId, newRecipient } from './helpers';
import type { StoreHarness } from './helpers';

const wrongCodeFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('ShortlinkStore', () => {
  let testDb: TestDatabase;
  let db: Database;
  let h: StoreHarness;

  before(async () => {
    testDb = await createTestDatabase('switchboard_shortlinks');
    db = testDb.db;
  });
  after(() => testDb?.drop());
  beforeEach(() => {
    h = makeStore(db);
  });

  const create = (extra: Partial<Parameters<ShortlinkStore['create']>[0]> = {}) =>
    h.store.create({
      messageId: newMessageId(),
      recipient: newRecipient(),
      media: makePng(),
      contentType: 'image/png',
      fileName: 'parcel.png',
      ...extra,
    });

  it('is created by migration 5', async () => {
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations WHERE id = 5');
    assert.equal(rows[0]?.name, 'secure shortlinks');
  });

  it('creates a link, sends a code to the bound number, and opens with it', async () => {
    const media = makePng();
    const messageId = newMessageId();
    const recipient = newRecipient();
    const link = await h.store.create({
      messageId,
      recipient,
      media,
      contentType: 'IMAGE/PNG',
      fileName: '../../etc/parcel photo.png',
    });
    assert.match(link.token, /^[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(link.token, 'base64url').length * 8 >= 128, 'token has at least 128 bits');
    assert.equal(link.url, `https://links.example.test/s/${link.token}`);
    assert.equal(link.expiresAt.getTime(), T0.getTime() + 86_400_000, 'default TTL is 24 h');
    assert.equal(link.recipientHash, new AuditLog(db, HASH_KEY).hashRecipient(recipient));

    const started = await h.store.startOpen(link.token);
    assert.equal(started.codeSent, true);
    assert.equal(started.linkId, link.linkId);
    assert.equal(h.codes.length, 1);
    assert.equal(h.codes[0]!.recipient, recipient);
    assert.equal(h.codes[0]!.messageId, messageId);
    assert.match(h.codes[0]!.code, /^[0-9]{6}$/);

    const opened = await h.store.verifyAndOpen(link.token, h.lastCode());
    assert.ok(opened.media.equals(media));
    assert.equal(opened.contentType, 'image/png');
    assert.equal(opened.fileName, 'parcel photo.png', 'path parts are dropped');
    assert.equal(opened.opens, 1);
    assert.equal(opened.maxOpens, 5);
    assert.equal(opened.messageId, messageId);

    // The code is spent by the open.
    await assert.rejects(h.store.verifyAndOpen(link.token, h.lastCode()), (err: WrongCodeError) => {
      assert.ok(err instanceof WrongCodeError);
      assert.equal(err.reason, 'no-code');
      return true;
    });
  });

  it('stores no token, no number, no file name and no plaintext media', async () => {
    const media = Buffer.concat([makePng(), Buffer.from('PLAINTEXT-MARKER-'.repeat(64))]);
    const recipient = newRecipient();
    const link = await create({ media, recipient, fileName: 'very-private-scan.pdf' });
    await h.store.startOpen(link.token);
    const { rows } = await db.query<{ as_text: string }>(
      `SELECT t::text AS as_text FROM shortlinks t WHERE link_id = $1`,
      [link.linkId],
    );
    const row = rows[0]!.as_text;
    const hex = (b: Buffer) => b.toString('hex');
    for (const [what, needle] of [
      ['token', link.token],
      ['token bytes', hex(Buffer.from(link.token, 'base64url'))],
      ['token as UTF-8', hex(Buffer.from(link.token))],
      ['number', recipient],
      ['number as UTF-8', hex(Buffer.from(recipient))],
      ['digits of the number', recipient.slice(1)],
      ['file name', 'very-private-scan'],
      ['file name as UTF-8', hex(Buffer.from('very-private-scan'))],
      ['code', h.lastCode()],
    ] as const) {
      assert.ok(!row.includes(needle), `the row holds the ${what}`);
    }

    // The bytea itself: no run of the plaintext survives, and it is not the plaintext's length.
    const { rows: found } = await db.query<{ whole: number; head: number; marker: number; bytes: number }>(
      `SELECT position($2::bytea IN media_ciphertext) AS whole,
              position($3::bytea IN media_ciphertext) AS head,
              position($4::bytea IN media_ciphertext) AS marker,
              octet_length(media_ciphertext) AS bytes
       FROM shortlinks WHERE link_id = $1`,
      [link.linkId, media, media.subarray(0, 16), Buffer.from('PLAINTEXT-MARKER-')],
    );
    assert.equal(found[0]!.whole, 0);
    assert.equal(found[0]!.head, 0, 'the PNG header is not in the ciphertext');
    assert.equal(found[0]!.marker, 0);
    assert.equal(found[0]!.bytes, media.length + 12 + 16, 'nonce ‖ ciphertext ‖ tag');
  });

  it('opens before the TTL and answers gone after it', async () => {
    const link = await create({ ttlSeconds: 60 });
    h.clock.advance(59_000);
    await h.store.startOpen(link.token);
    await h.store.verifyAndOpen(link.token, h.lastCode());
    h.clock.advance(1_000);
    for (const attempt of [
      () => h.store.startOpen(link.token),
      () => h.store.verifyAndOpen(link.token, '000000'),
    ]) {
      await assert.rejects(attempt(), (err: ShortlinkGoneError) => {
        assert.ok(err instanceof ShortlinkGoneError);
        assert.equal(err.reason, 'expired');
        assert.equal(err.link.linkId, link.linkId);
        return true;
      });
    }
  });

  it('refuses a wrong code, keeps the count, and still opens with the right one', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    const code = h.lastCode();
    await assert.rejects(h.store.verifyAndOpen(link.token, wrongCodeFor(code)), (err: WrongCodeError) => {
      assert.ok(err instanceof WrongCodeError);
      assert.equal(err.reason, 'mismatch');
      assert.equal(err.attemptsLeft, 4);
      assert.equal(err.locked, false);
      assert.ok(!err.message.includes(code));
      return true;
    });
    // Malformed input is refused without spending an attempt.
    await assert.rejects(h.store.verifyAndOpen(link.token, '12ab'), (err: WrongCodeError) => {
      assert.equal(err.reason, 'malformed');
      assert.equal(err.attemptsLeft, 4);
      return true;
    });
    const opened = await h.store.verifyAndOpen(link.token, code);
    assert.equal(opened.opens, 1);
  });

  it('locks the link after 5 wrong codes, even with the right code and a new one', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    const code = h.lastCode();
    for (let i = 1; i <= 5; i++) {
      await assert.rejects(h.store.verifyAndOpen(link.token, wrongCodeFor(code)), (err: WrongCodeError) => {
        assert.ok(err instanceof WrongCodeError);
        assert.equal(err.attemptsLeft, 5 - i);
        assert.equal(err.locked, i === 5);
        return true;
      });
    }
    await assert.rejects(h.store.verifyAndOpen(link.token, code), TooManyAttemptsError);
    await assert.rejects(h.store.startOpen(link.token), (err: TooManyAttemptsError) => {
      assert.ok(err instanceof TooManyAttemptsError);
      assert.equal(err.reason, 'wrong-codes');
      return true;
    });
    assert.equal(h.codes.length, 1, 'a locked link sends no code');
  });

  it('counts concurrent guesses exactly: no more than 5 are ever judged', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    const code = h.lastCode();
    const guesses = Array.from({ length: 20 }, () => h.store.verifyAndOpen(link.token, wrongCodeFor(code)));
    const results = await Promise.allSettled(guesses);
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'opened'));
    assert.equal(reasons.filter((n) => n === 'WrongCodeError').length, 5);
    assert.equal(reasons.filter((n) => n === 'TooManyAttemptsError').length, 15);
    const { rows } = await db.query<{ otp_attempts: number }>(
      'SELECT otp_attempts FROM shortlinks WHERE link_id = $1',
      [link.linkId],
    );
    assert.equal(rows[0]!.otp_attempts, 5);
  });

  it('answers gone for a revoked link and shreds its keys and ciphertexts', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    const ref = await h.store.revoke(link.token);
    assert.equal(ref.linkId, link.linkId);
    await h.store.revoke(link.token); // idempotent
    await assert.rejects(h.store.verifyAndOpen(link.token, h.lastCode()), (err: ShortlinkGoneError) => {
      assert.equal(err.reason, 'revoked');
      return true;
    });
    await assert.rejects(h.store.startOpen(link.token), ShortlinkGoneError);
    const { rows } = await db.query(
      `SELECT wrapped_key, media_ciphertext, recipient_ciphertext, file_name_ciphertext, otp_hash, revoked_at
       FROM shortlinks WHERE link_id = $1`,
      [link.linkId],
    );
    assert.deepEqual(
      { ...rows[0], revoked_at: undefined },
      {
        wrapped_key: null,
        media_ciphertext: null,
        recipient_ciphertext: null,
        file_name_ciphertext: null,
        otp_hash: null,
        revoked_at: undefined,
      },
    );
    await assert.rejects(h.store.revoke('A'.repeat(24)), ShortlinkNotFoundError);
  });

  it('revokes every link of a message', async () => {
    const messageId = newMessageId();
    const a = await create({ messageId });
    const b = await create({ messageId });
    assert.equal(await h.store.revokeMessage(messageId), 2);
    assert.equal(await h.store.revokeMessage(messageId), 0);
    for (const link of [a, b]) await assert.rejects(h.store.startOpen(link.token), ShortlinkGoneError);
  });

  it('answers gone once the opens are used up', async () => {
    const link = await create({ maxOpens: 2 });
    for (let i = 0; i < 2; i++) {
      h.clock.advance(60_000);
      await h.store.startOpen(link.token);
      await h.store.verifyAndOpen(link.token, h.lastCode());
    }
    await assert.rejects(h.store.startOpen(link.token), (err: ShortlinkGoneError) => {
      assert.ok(err instanceof ShortlinkGoneError);
      assert.equal(err.reason, 'exhausted');
      return true;
    });
  });

  it('answers not found for unknown and malformed tokens without telling them apart', async () => {
    for (const token of [
      randomBytes(18).toString('base64url'),
      'short',
      '../../etc/passwd',
      '',
      'x'.repeat(500),
    ]) {
      await assert.rejects(h.store.startOpen(token), ShortlinkNotFoundError);
      await assert.rejects(h.store.verifyAndOpen(token, '123456'), ShortlinkNotFoundError);
    }
  });

  it('sends no second code during the cooldown, then replaces the code', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    const first = h.lastCode();
    h.clock.advance(10_000);
    const again = await h.store.startOpen(link.token);
    assert.equal(again.codeSent, false);
    assert.equal(h.codes.length, 1);
    h.clock.advance(25_000);
    assert.equal((await h.store.startOpen(link.token)).codeSent, true);
    const second = h.lastCode();
    if (second !== first) {
      await assert.rejects(h.store.verifyAndOpen(link.token, first), WrongCodeError);
    }
    await h.store.verifyAndOpen(link.token, second);
  });

  it('lets a code expire after 10 minutes', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    h.clock.advance(600_000);
    await assert.rejects(h.store.verifyAndOpen(link.token, h.lastCode()), (err: WrongCodeError) => {
      assert.equal(err.reason, 'code-expired');
      assert.equal(err.attemptsLeft, 5, 'an expired code spends no attempt');
      return true;
    });
  });

  it('caps the codes one link may send', async () => {
    h = makeStore(db, { maxCodesSent: 3 });
    const link = await create();
    for (let i = 0; i < 3; i++) {
      await h.store.startOpen(link.token);
      h.clock.advance(31_000);
    }
    await assert.rejects(h.store.startOpen(link.token), (err: TooManyAttemptsError) => {
      assert.equal(err.reason, 'codes-sent');
      return true;
    });
  });

  it('withdraws a code that could not be sent, so the next request sends again', async () => {
    const link = await create();
    h.failSends.value = true;
    await assert.rejects(h.store.startOpen(link.token), (err: CodeDeliveryError) => {
      assert.ok(err instanceof CodeDeliveryError);
      assert.equal(err.causeName, 'Error');
      assert.ok(!err.message.includes('SMSC'), 'the cause message is not carried');
      return true;
    });
    h.failSends.value = false;
    assert.equal((await h.store.startOpen(link.token)).codeSent, true);
    const { rows } = await db.query<{ codes_sent: number }>(
      'SELECT codes_sent FROM shortlinks WHERE link_id = $1',
      [link.linkId],
    );
    assert.equal(rows[0]!.codes_sent, 1);
  });

  it('needs the KEK it was created under, and accepts it as a previous KEK', async () => {
    const link = await create();
    const other = makeStore(db);
    await assert.rejects(other.store.startOpen(link.token), (err: ShortlinkIntegrityError) => {
      assert.equal(err.reason, 'unknown-kek');
      return true;
    });
    const rotated = makeStore(db, { kek: randomBytes(32), previousKeks: [h.kek] });
    await rotated.store.startOpen(link.token);
    const opened = await rotated.store.verifyAndOpen(link.token, rotated.lastCode());
    assert.equal(opened.opens, 1);
  });

  it('refuses tampered ciphertext without spending an open', async () => {
    const link = await create();
    await h.store.startOpen(link.token);
    await db.query(
      `UPDATE shortlinks SET media_ciphertext = overlay(media_ciphertext PLACING '\\x00'::bytea FROM 20 FOR 1)
       WHERE link_id = $1`,
      [link.linkId],
    );
    await assert.rejects(h.store.verifyAndOpen(link.token, h.lastCode()), (err: ShortlinkIntegrityError) => {
      assert.ok(err instanceof ShortlinkIntegrityError);
      assert.equal(err.reason, 'authentication-failed');
      return true;
    });
    const { rows } = await db.query<{ opens: number }>('SELECT opens FROM shortlinks WHERE link_id = $1', [
      link.linkId,
    ]);
    assert.equal(rows[0]!.opens, 0);
  });

  it('shreds links that can no longer open', async () => {
    const live = await create({ ttlSeconds: 3600 });
    const expiring = await create({ ttlSeconds: 60 });
    h.clock.advance(61_000);
    assert.ok((await h.store.purgeExpired()) >= 1);
    const { rows } = await db.query<{ link_id: string; shredded: boolean }>(
      'SELECT link_id, media_ciphertext IS NULL AS shredded FROM shortlinks WHERE link_id = ANY($1)',
      [[live.linkId, expiring.linkId]],
    );
    const shredded = Object.fromEntries(rows.map((r) => [r.link_id, r.shredded]));
    assert.equal(shredded[live.linkId], false);
    assert.equal(shredded[expiring.linkId], true);
    await assert.rejects(h.store.startOpen(expiring.token), ShortlinkGoneError);
    await h.store.startOpen(live.token);
  });

  it('refuses bad input naming the field, never the value', async () => {
    const cases: [Partial<Parameters<ShortlinkStore['create']>[0]>, RegExp][] = [
      [{ recipient: '5550100001' }, /^recipient:/],
      [{ media: Buffer.alloc(0) }, /^media:/],
      [{ contentType: 'image/png; charset=x' }, /^contentType:/],
      [{ ttlSeconds: 0 }, /^ttlSeconds:/],
      [{ ttlSeconds: 1.5 }, /^ttlSeconds:/],
      [{ maxOpens: 0 }, /^maxOpens:/],
      [{ messageId: '' }, /^messageId:/],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(create(input), (err: Error) => {
        assert.ok(err instanceof ShortlinkInputError);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('5550100001'));
        return true;
      });
    }
    assert.throws(
      () =>
        new ShortlinkStore({
          db,
          kek: randomBytes(16),
          recipientHashKey: HASH_KEY,
          baseUrl: 'x',
          sendCode: async () => {},
        }),
      ShortlinkInputError,
    );
  });
});
