// The shortlink page over real HTTP on an ephemeral port, backed by ShortlinkStore on a real
// PostgreSQL. Client addresses come from X-Forwarded-For (trustProxy), so each test is a client
// of its own; one test runs without trustProxy to see the socket's own address throttled.
// test/security/ has the attacks on the page over the worker's own wiring.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Database } from '../../store/database';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { makePng, makeStore, newMessageId, newRecipient, startApp } from './helpers';
import type { AppHarness, StoreHarness } from './helpers';

const EXPECTED_HEADERS = {
  'cache-control': /no-store/,
  'referrer-policy': /^no-referrer$/,
  'content-security-policy': /default-src 'none'.*img-src data:.*form-action 'self'.*frame-ancestors 'none'/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^DENY$/,
};

let ipSerial = 0;
const newIp = () => `198.51.100.${++ipSerial}`;

describe('shortlink page (HTTP)', () => {
  let testDb: TestDatabase;
  let db: Database;
  let h: StoreHarness;
  let web: AppHarness;
  /** Every request made to /s/…, to compare with the audit events. */
  let requests = 0;

  before(async () => {
    testDb = await createTestDatabase('switchboard_shortlink_app');
    db = testDb.db;
  });
  after(() => testDb?.drop());
  beforeEach(async () => {
    h = makeStore(db);
    web = await startApp({
      store: h.store,
      trustProxy: true,
      guessLimit: { limit: 5, windowMs: 60_000 },
      now: () => h.clock.now,
    });
    requests = 0;
  });
  afterEach(() => web?.close());

  const get = (token: string, ip: string, method = 'GET') => {
    requests++;
    return fetch(`${web.base}/s/${token}`, { method, headers: { 'x-forwarded-for': ip } });
  };
  const post = (token: string, ip: string, fields: Record<string, string>) => {
    requests++;
    return fetch(`${web.base}/s/${token}`, {
      method: 'POST',
      headers: { 'x-forwarded-for': ip, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  };
  const createLink = (
    extra: { ttlSeconds?: number; maxOpens?: number; media?: Buffer; contentType?: string } = {},
  ) =>
    h.store.create({
      messageId: newMessageId(),
      recipient: newRecipient(),
      media: extra.media ?? makePng(),
      contentType: extra.contentType ?? 'image/png',
      fileName: 'parcel.png',
      ...extra,
    });
  const assertSecurityHeaders = (res: Response) => {
    for (const [name, pattern] of Object.entries(EXPECTED_HEADERS)) {
      assert.match(res.headers.get(name) ?? '', pattern, name);
    }
  };
  /** Nothing secret in any audit event or log line. */
  const assertNothingLeaked = (secrets: string[]) => {
    const recorded = JSON.stringify(web.events) + web.logLines.join('\n');
    for (const secret of secrets)
      assert.ok(!recorded.includes(secret), 'a secret reached the audit or the log');
  };

  it('sends a code on GET, shows the image on POST with it, with security headers throughout', async () => {
    const png = makePng();
    const link = await createLink({ media: png });
    const ip = newIp();

    const page = await get(link.token, ip);
    assert.equal(page.status, 200);
    assertSecurityHeaders(page);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const form = await page.text();
    assert.match(form, /Enter the code we sent to your phone/);
    assert.match(form, /<label for="code">/);
    assert.match(form, /autocomplete="one-time-code"/);
    assert.doesNotMatch(form, /<script|https?:\/\//i, 'no script, no external asset');
    assert.equal(h.codes.length, 1);

    const shown = await post(link.token, ip, { code: h.lastCode(), action: 'verify' });
    assert.equal(shown.status, 200);
    assertSecurityHeaders(shown);
    const body = await shown.text();
    assert.ok(
      body.includes(`<img src="data:image/png;base64,${png.toString('base64')}"`),
      'the image is inline',
    );
    assert.match(body, /download="parcel.png"/);

    assert.deepEqual(
      web.events.map((e) => e.event),
      ['shortlink.code_sent', 'shortlink.open'],
    );
    const open = web.events[1]!;
    assert.equal(open.linkId, link.linkId);
    assert.equal(open.messageId, link.messageId);
    assert.equal(open.recipientHash, link.recipientHash);
    assert.deepEqual(open.detail, { contentType: 'image/png', bytes: png.length, opens: 1, maxOpens: 5 });
    assertNothingLeaked([
      link.token,
      h.lastCode(),
      h.codes[0]!.recipient,
      png.toString('base64').slice(0, 40),
    ]);
  });

  it('offers other media as a download, not inline', async () => {
    const pdf = Buffer.from('%PDF-1.4 a tiny document');
    const link = await createLink({ media: pdf, contentType: 'application/pdf' });
    const ip = newIp();
    await get(link.token, ip);
    const body = await (await post(link.token, ip, { code: h.lastCode() })).text();
    assert.doesNotMatch(body, /<img/);
    assert.ok(body.includes(`href="data:application/octet-stream;base64,${pdf.toString('base64')}"`));
  });

  it('does not send a code for HEAD (link previews)', async () => {
    const link = await createLink();
    const ip = newIp();
    const res = await get(link.token, ip, 'HEAD');
    assert.equal(res.status, 200);
    assertSecurityHeaders(res);
    const unknown = await get(randomBytes(18).toString('base64url'), ip, 'HEAD');
    assert.equal(unknown.status, 200, 'HEAD does not tell a live token from a guess');
    assert.equal(h.codes.length, 0);
    assert.equal(web.events.length, 0);
  });

  it('resends a code on request, not on a reload within the cooldown', async () => {
    const link = await createLink();
    const ip = newIp();
    await get(link.token, ip);
    const reload = await get(link.token, ip);
    assert.equal(reload.status, 200);
    assert.match(await reload.text(), /a moment ago/);
    assert.equal(h.codes.length, 1);
    h.clock.advance(31_000);
    const resent = await post(link.token, ip, { action: 'resend' });
    assert.equal(resent.status, 200);
    assert.equal(h.codes.length, 2);
    assert.deepEqual(
      web.events.map((e) => [e.event, e.detail.reason ?? null]),
      [
        ['shortlink.code_sent', null],
        ['shortlink.code_not_sent', 'recent'],
        ['shortlink.code_sent', null],
      ],
    );
  });

  it('opens before the TTL and answers 410 after it', async () => {
    const link = await createLink({ ttlSeconds: 120 });
    const ip = newIp();
    h.clock.advance(100_000);
    await get(link.token, ip);
    assert.equal((await post(link.token, ip, { code: h.lastCode() })).status, 200);
    h.clock.advance(20_000);
    const gone = await get(link.token, ip);
    assert.equal(gone.status, 410);
    assertSecurityHeaders(gone);
    assert.match(await gone.text(), /This link has expired/);
    assert.equal((await post(link.token, ip, { code: '123456' })).status, 410);
    assert.deepEqual(
      web.events.slice(-2).map((e) => [e.event, e.detail.reason]),
      [
        ['shortlink.gone', 'expired'],
        ['shortlink.gone', 'expired'],
      ],
    );
  });

  it('answers 403 to a wrong code and locks the link with 429 after 5', async () => {
    const link = await createLink();
    const ip = newIp();
    await get(link.token, ip);
    const code = h.lastCode();
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const first = await post(link.token, ip, { code: wrong });
    assert.equal(first.status, 403);
    const firstBody = await first.text();
    assert.match(firstBody, /role="alert"/);
    assert.match(firstBody, /4 attempts left/);
    for (let i = 0; i < 3; i++) assert.equal((await post(link.token, ip, { code: wrong })).status, 403);
    const fifth = await post(link.token, ip, { code: wrong });
    assert.equal(fifth.status, 429);
    assert.match(await fifth.text(), /locked/);
    // The right code no longer helps, and no new code is sent.
    assert.equal((await post(link.token, ip, { code })).status, 429);
    assert.equal((await get(link.token, ip)).status, 429);
    assert.equal(h.codes.length, 1);
    const wrongEvents = web.events.filter((e) => e.event === 'shortlink.wrong_code');
    assert.deepEqual(
      wrongEvents.map((e) => e.detail.attemptsLeft),
      [4, 3, 2, 1, 0],
    );
    assert.equal(wrongEvents.at(-1)!.detail.locked, true);
    assert.equal(web.events.filter((e) => e.event === 'shortlink.locked').length, 2);
    assertNothingLeaked([link.token, code, wrong]);
  });

  it('answers 410 for a revoked link', async () => {
    const link = await createLink();
    const ip = newIp();
    await h.store.revoke(link.token);
    const res = await get(link.token, ip);
    assert.equal(res.status, 410);
    assert.match(await res.text(), /withdrawn/);
    assert.equal(web.events[0]!.event, 'shortlink.gone');
    assert.equal(web.events[0]!.detail.reason, 'revoked');
    assert.equal(web.events[0]!.linkId, link.linkId);
  });

  it('answers 410 once the opens are used up', async () => {
    const link = await createLink({ maxOpens: 1 });
    const ip = newIp();
    await get(link.token, ip);
    assert.equal((await post(link.token, ip, { code: h.lastCode() })).status, 200);
    const res = await get(link.token, ip);
    assert.equal(res.status, 410);
    assert.match(await res.text(), /opened as many times/);
  });

  it('throttles a client guessing tokens with 429, other clients unaffected, until the window ends', async () => {
    const link = await createLink();
    const guesser = newIp();
    for (let i = 0; i < 5; i++) {
      const guess = await get(randomBytes(18).toString('base64url'), guesser);
      assert.equal(guess.status, 404);
      assertSecurityHeaders(guess);
    }
    const blocked = await get(randomBytes(18).toString('base64url'), guesser);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.equal(
      (await post(randomBytes(18).toString('base64url'), guesser, { code: '123456' })).status,
      429,
    );
    // A real link is answered on its own limits, even to the throttled client.
    assert.equal((await get(link.token, guesser)).status, 200);
    assert.equal(h.codes.length, 1);
    // Another client's guesses are its own.
    assert.equal((await get(randomBytes(18).toString('base64url'), newIp())).status, 404);
    // After the window, the guesser is served again.
    h.clock.advance(60_000);
    assert.equal((await get(randomBytes(18).toString('base64url'), guesser)).status, 404);
    assert.deepEqual(web.junk.totals(), { notFound: 7, throttled: 2 });
    assert.deepEqual(
      web.events.map((e) => e.event),
      ['shortlink.code_sent'],
      'guesses are counted, not audited',
    );
  });

  it('counts malformed tokens and extra path segments as guesses too', async () => {
    const ip = newIp();
    for (const path of ['short', 'a/b', 'x'.repeat(300), '..%2F..%2Fetc', '%00']) {
      assert.equal((await get(path, ip)).status, 404, path);
    }
    assert.equal((await get(randomBytes(18).toString('base64url'), ip)).status, 429);
  });

  it('throttles guesses by socket address without trustProxy', async () => {
    const direct = await startApp({ store: h.store, guessLimit: { limit: 3, windowMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${direct.base}/s/${randomBytes(18).toString('base64url')}`, {
          headers: { 'x-forwarded-for': newIp() }, // ignored: not trusted
        });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [404, 404, 404, 429]);
    } finally {
      await direct.close();
    }
  });

  it('withholds the media when its open cannot be audited', async () => {
    const png = makePng();
    const link = await createLink({ media: png });
    const ip = newIp();
    await get(link.token, ip);
    web.failAudit.value = true;
    const res = await post(link.token, ip, { code: h.lastCode() });
    assert.equal(res.status, 503);
    assert.ok(!(await res.text()).includes(png.toString('base64').slice(0, 40)));
    assert.ok(web.logLines.some((l) => l.includes('shortlink audit failed')));
    assertNothingLeaked([link.token, h.lastCode()]);
  });

  it('answers 503 when the code cannot be sent, and audits it', async () => {
    const link = await createLink();
    h.failSends.value = true;
    const res = await get(link.token, newIp());
    assert.equal(res.status, 503);
    assert.equal(web.events[0]!.event, 'shortlink.code_not_sent');
    assert.equal(web.events[0]!.detail.reason, 'delivery-failed');
  });

  it('audits every request for an existing link, once, without secrets; counts the others', async () => {
    const link = await createLink({ maxOpens: 2 });
    const ip = newIp();
    await get(link.token, ip);
    await post(link.token, ip, { code: '000000' === h.lastCode() ? '000001' : '000000' });
    await post(link.token, ip, { code: 'abc' });
    await post(link.token, ip, { code: h.lastCode() });
    h.clock.advance(31_000);
    await post(link.token, ip, { action: 'resend' });
    await post(link.token, ip, { code: h.lastCode() });
    await get(link.token, ip);
    await get(randomBytes(18).toString('base64url'), ip);
    await post(randomBytes(18).toString('base64url'), ip, { code: '123456' });
    assert.equal(web.events.length, requests - 2, 'one audit event per request for the link');
    assert.deepEqual(web.junk.totals(), { notFound: 2, throttled: 0 });
    assert.deepEqual(
      web.events.map((e) => e.event),
      [
        'shortlink.code_sent',
        'shortlink.wrong_code',
        'shortlink.wrong_code',
        'shortlink.open',
        'shortlink.code_sent',
        'shortlink.open',
        'shortlink.gone',
      ],
    );
    for (const e of web.events) {
      assert.ok(!Number.isNaN(Date.parse(e.at)));
      assert.equal(e.messageId, link.messageId);
    }
    assertNothingLeaked([link.token, ...h.codes.map((c) => c.code), h.codes[0]!.recipient]);
  });
});
