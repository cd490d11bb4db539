// Attack (security review): behind a proxy with no trustProxy, ten bad tokens locked out every
// user for 15 minutes, a valid link included. Closed: with SHORTLINK_TRUST_PROXY each client is
// its own address and only the guesser is throttled; and whatever the proxy setting, guesses only
// ever throttle guesses: a real link is answered on its own per-link limits (wrong codes on that
// link), so nobody else's guessing locks its rightful user out.

import assert from 'node:assert/strict';
import { call, createLink, flood, garbageToken, openAsRecipient, startPublicPage } from './public-page';
import type { Caller, PublicPage } from './public-page';

const pageBase = (url: string) => url.slice(0, url.lastIndexOf('/s/') + 3);

describe('security: guesses on the secure-link page lock nobody out of a real link', function () {
  this.timeout(120_000);

  describe('behind a proxy, SHORTLINK_TRUST_PROXY=1', () => {
    let page: PublicPage;
    before(async () => {
      page = await startPublicPage(1);
    });
    after(() => page?.drop());

    // Every request comes from 127.0.0.1, the "proxy", which appends the client's address.
    const guesser: Caller = { headers: { 'x-forwarded-for': '203.0.113.7' } };
    const user: Caller = { headers: { 'x-forwarded-for': '198.51.100.20' } };

    it("throttles the guessing client after ten bad tokens; another client's valid link opens", async () => {
      const link = await createLink(page);
      const base = pageBase(link.url);
      for (let i = 0; i < 10; i++)
        assert.equal((await call(`${base}${garbageToken()}`, guesser)).status, 404);
      const limited = await call(`${base}${garbageToken()}`, guesser);
      assert.equal(limited.status, 429, 'the guesser is limited');
      assert.ok(Number(limited.retryAfter) > 0, 'with Retry-After');
      assert.equal((await call(`${base}${garbageToken()}`, guesser, { code: '123456' })).status, 429);
      // Naming someone else's address in front of the proxy's own entry does not help.
      const spoofed: Caller = { headers: { 'x-forwarded-for': '198.51.100.20, 203.0.113.7' } };
      assert.equal((await call(`${base}${garbageToken()}`, spoofed)).status, 429);

      await openAsRecipient(link, user);
      // The user's own mistyped link is answered 404, not 429: the guesser's window is not theirs.
      assert.equal((await call(`${base}${garbageToken()}`, user)).status, 404);
    });
  });

  describe('behind a proxy, nothing trusted (every user is one address)', () => {
    let page: PublicPage;
    before(async () => {
      page = await startPublicPage(false);
    });
    after(() => page?.drop());

    it('a flood of token and code guesses never locks a valid link for its rightful user', async () => {
      const link = await createLink(page);
      const other = await createLink(page);
      const base = pageBase(link.url);
      const statuses = new Set<number>();
      await flood(300, 8, async (i) => {
        const res = await call(`${base}${garbageToken()}`, {}, i % 2 ? { code: '000000' } : undefined);
        statuses.add(res.status);
      });
      assert.deepEqual([...statuses].sort(), [404, 429], 'the shared address is throttled for guesses');

      // Wrong codes count against the link they were tried on, and lock that one only.
      assert.equal((await call(other.url, {})).status, 200);
      const wrong: number[] = [];
      for (let i = 0; i < 5; i++) wrong.push((await call(other.url, {}, { code: '000000' })).status);
      assert.deepEqual(wrong, [403, 403, 403, 403, 429], 'the guessed-at link locks after five wrong codes');
      assert.equal((await call(other.url, {})).status, 429, 'and stays locked');

      await openAsRecipient(link, {});
    });
  });
});
