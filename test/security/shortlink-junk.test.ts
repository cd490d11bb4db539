// Attack (security review): 20 000 unauthenticated `GET /s/garbage` wrote 20 210 permanent audit
// rows, all on one hash chain, and pushed the sends' audit latency p99 from 56 ms to 3 s.
// Closed: requests for links that do not exist are counted, and one summary row per interval
// goes to the audit trail. Over real HTTP on the worker's wiring, rows counted in PostgreSQL.

import assert from 'node:assert/strict';
import { garbageToken, call, createLink, flood, openAsRecipient, startPublicPage } from './public-page';
import type { PublicPage } from './public-page';

const N = 2_000;

interface AuditRowSummary {
  event: string;
  message_id: string;
  detail: Record<string, unknown>;
}

describe('security: junk requests to the secure-link page are counted, not audited one by one', function () {
  this.timeout(120_000);
  let page: PublicPage;

  before(async () => {
    page = await startPublicPage(false);
  });
  after(() => page?.drop());

  const auditRows = async () =>
    (
      await page.mainDb.query<AuditRowSummary>(
        'SELECT event, message_id, detail FROM audit_log ORDER BY shard, shard_seq',
      )
    ).rows;

  it(`${N} garbage tokens and code guesses add a summary row or two, which counts all ${N}`, async () => {
    const link = await createLink(page);
    const base = link.url.slice(0, link.url.lastIndexOf('/s/') + 3);
    const before = (await auditRows()).length;

    const sent: string[] = [];
    await flood(N, 16, async (i) => {
      const token = i % 3 === 2 ? 'short' : garbageToken();
      if (token !== 'short' && sent.length < 50) sent.push(token);
      const res = await call(`${base}${token}`, {}, i % 3 === 1 ? { code: '123456' } : undefined);
      assert.ok(res.status === 404 || res.status === 429, `junk answered ${res.status}`);
    });
    const totals = page.junk.totals();
    assert.equal(totals.notFound + totals.throttled, N, 'the counter saw every junk request');
    // One client (loopback, no proxy trusted): its first 10 guesses are answered 404, the rest 429.
    assert.deepEqual(totals, { notFound: 10, throttled: N - 10 });

    // The flood never touched the real link: its user opens it as before, and that is audited.
    await openAsRecipient(link, {});
    await page.close(); // records the last summary

    const added = (await auditRows()).slice(before);
    const summaries = added.filter((r) => r.event === 'shortlink.junk');
    assert.ok(summaries.length >= 1 && summaries.length <= 3, `${summaries.length} summary rows`);
    const counted = summaries.reduce(
      (sum, r) => sum + Number(r.detail.notFound) + Number(r.detail.throttled),
      0,
    );
    assert.equal(counted, N, 'the summaries account for every junk request');
    assert.deepEqual(
      added.filter((r) => r.event !== 'shortlink.junk').map((r) => [r.event, r.message_id]),
      [
        ['shortlink.code_sent', link.messageId],
        ['shortlink.open', link.messageId],
      ],
      'real events on the real link are audited as before, nothing else',
    );
    const recorded = JSON.stringify(summaries);
    assert.ok(!recorded.includes('127.0.0.1'), 'no caller address in a summary');
    for (const token of sent) assert.ok(!recorded.includes(token), 'no token in a summary');
  });
});
