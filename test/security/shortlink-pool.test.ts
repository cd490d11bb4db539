// Attack: slow or many requests to the public page hold the database connections the sends
// need. Closed: the page has its own pool of PUBLIC_POOL_SIZE (workers/shortlinks.ts). Shown by
// holding a link's row lock so every page request for it waits inside PostgreSQL: the page's
// pool is exhausted, and an audit append on the worker's main pool (the same size, so a shared
// pool would be exhausted too) still completes at once.

import assert from 'node:assert/strict';
import pg from 'pg';
import { AuditLog } from '../../store/audit-log';
import { PUBLIC_POOL_NAME, PUBLIC_POOL_SIZE } from '../../workers/shortlinks';
import { AUDIT_HASH_KEY, call, createLink, startPublicPage } from './public-page';
import type { PublicPage } from './public-page';

describe("security: the secure-link page cannot take the sends' database connections", function () {
  this.timeout(60_000);
  let page: PublicPage;
  let locker: pg.Client;

  before(async () => {
    page = await startPublicPage(false, PUBLIC_POOL_SIZE);
    locker = new pg.Client({ connectionString: page.testDb.url });
    await locker.connect();
  });
  after(async () => {
    await locker?.end();
    await page?.drop();
  });

  const publicSessions = async () =>
    (
      await page.mainDb.query<{ waiting: string; total: string }>(
        `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting, count(*) AS total
         FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
        [PUBLIC_POOL_NAME],
      )
    ).rows[0]!;

  it('with the page pool exhausted by stuck requests, an audit append on the main pool is prompt', async () => {
    const link = await createLink(page);
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM shortlinks WHERE message_id = $1 FOR UPDATE', [link.messageId]);
    const stuck = Array.from({ length: PUBLIC_POOL_SIZE * 2 }, () => call(link.url, {}));
    try {
      let sessions = await publicSessions();
      for (let i = 0; i < 100 && Number(sessions.waiting) < PUBLIC_POOL_SIZE; i++) {
        await new Promise((r) => setTimeout(r, 20));
        sessions = await publicSessions();
      }
      assert.equal(Number(sessions.waiting), PUBLIC_POOL_SIZE, 'every page connection waits on the lock');
      assert.equal(Number(sessions.total), PUBLIC_POOL_SIZE, 'and the page holds no more than its pool');

      const started = Date.now();
      const appended = await Promise.race([
        new AuditLog(page.mainDb, AUDIT_HASH_KEY)
          .append({ tenant: 'acme', recipient: '+15550300001', region: 'us', flow: 'standard' }, [
            {
              messageId: `pool-${started}`,
              seq: 1,
              event: 'accepted',
              channel: null,
              result: null,
              errorCode: null,
              detail: {},
              occurredAt: new Date().toISOString(),
            },
          ])
          .then((inserted) => inserted.length),
        new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 2_000)),
      ]);
      assert.equal(appended, 1, 'the send path appended while the page was stuck');
      assert.ok(Date.now() - started < 1_000, `append took ${Date.now() - started} ms`);
    } finally {
      await locker.query('COMMIT');
    }
    const answers = await Promise.all(stuck);
    assert.deepEqual(
      answers.map((a) => a.status),
      Array<number>(PUBLIC_POOL_SIZE * 2).fill(200),
      'the queued page requests are served once the lock is gone',
    );
  });
});
