// The retry budgets of every activity that needs PostgreSQL, computed from the options the
// workflows use: each must outlast 15 minutes of failures that come back at once (a refused
// connection is the fastest failure, so it spends attempts fastest), and back off to no more
// than a minute, so a message moves on soon after the database is back.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { toApplicationFailure } from '../../activities/failures';
import { FailureType } from '../../domain/failures';
import { openDatabase } from '../../store/database';
import {
  archiveForEscrowOptions,
  createShortlinkOptions,
  guardActivityOptions,
  prepareDeliveryOptions,
  recordAuditOptions,
  sendRcsOptions,
  sendSmsOptions,
} from '../../workflows/activities-proxy';
import { accessRequestActivityOptions, grantAccessOptions } from '../../workflows/lawful-access';

const OUTAGE_MS = 15 * 60_000;
const MAX_BACKOFF_MS = 60_000;

// revokeRcs is left out on purpose: it calls the RCS hub only.
const DATABASE_DEPENDENT: Record<string, ActivityOptions | LocalActivityOptions> = {
  recordAudit: recordAuditOptions,
  prepareDelivery: prepareDeliveryOptions,
  archiveForEscrow: archiveForEscrowOptions,
  sendRcs: sendRcsOptions,
  sendSms: sendSmsOptions,
  createShortlink: createShortlinkOptions,
  'measureFallback, recordGuardDecision': guardActivityOptions,
  'openAccessRequest, checkCustodianApproval, refuseAccess': accessRequestActivityOptions,
  grantAccess: grantAccessOptions,
};

/** How long failures that return at once keep being retried, with Temporal's defaults. */
function retryBudgetMs(options: ActivityOptions | LocalActivityOptions): number {
  const retry = options.retry ?? {};
  const initial = msToNumber(retry.initialInterval ?? '1 second');
  const coefficient = retry.backoffCoefficient ?? 2;
  const maximum = retry.maximumInterval ? msToNumber(retry.maximumInterval) : 100 * initial;
  const deadline = options.scheduleToCloseTimeout ? msToNumber(options.scheduleToCloseTimeout) : Infinity;
  const attempts = retry.maximumAttempts ? retry.maximumAttempts : Infinity;
  if (attempts === Infinity) return deadline;
  let waited = 0;
  for (let retryNo = 1; retryNo < attempts; retryNo++) {
    waited += Math.min(initial * coefficient ** (retryNo - 1), maximum);
  }
  return Math.min(waited, deadline);
}

describe('retry budgets of the activities that need PostgreSQL', () => {
  for (const [name, options] of Object.entries(DATABASE_DEPENDENT)) {
    it(`${name}: retries for at least 15 minutes, backing off to at most a minute`, () => {
      const budget = retryBudgetMs(options);
      assert.ok(budget >= OUTAGE_MS, `${name} gives up after ${(budget / 60_000).toFixed(1)} min`);
      const maximumMs = options.retry?.maximumInterval ? msToNumber(options.retry.maximumInterval) : Infinity;
      assert.ok(maximumMs <= MAX_BACKOFF_MS, `${name}: maximumInterval ${maximumMs} ms`);
    });

    it(`${name}: only typed permanent failures are final, never a database error`, () => {
      const ours = new Set<string>([
        ...Object.values(FailureType),
        // The lawful-access activities' own refusals (activities/lawful-access.ts).
        'AccessRequestClosed',
        'AccessRequestKeyError',
        'EscrowError',
        'SealedBoxError',
      ]);
      for (const type of options.retry?.nonRetryableErrorTypes ?? []) {
        assert.ok(ours.has(type), `${name} gives up on ${type}`);
      }
    });
  }

  it('the guard retries with no deadline at all', () => {
    assert.equal(retryBudgetMs(guardActivityOptions), Infinity);
  });

  it('the old policies would have failed the check (10 local attempts: about 5.5 minutes)', () => {
    const old = retryBudgetMs({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 10 } });
    assert.ok(old < 6 * 60_000 && old > 5 * 60_000, `${old}`);
    const oldSms = retryBudgetMs({
      startToCloseTimeout: '2 minutes',
      retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
    });
    assert.ok(oldSms < OUTAGE_MS, `${oldSms}`);
  });

  it('a database that cannot be reached fails an attempt within the connect timeout, as a retryable error', async () => {
    // A listener that accepts and never answers: the pool must give up rather than wait forever.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const db = openDatabase(`postgres://postgres@127.0.0.1:${port}/none`, 1);
    const started = Date.now();
    try {
      const err = await db.query('SELECT 1').then(
        () => assert.fail('a query through a silent listener answered'),
        (e: unknown) => e,
      );
      assert.ok(Date.now() - started < 8_000, `gave up after ${Date.now() - started} ms`);
      const mapped = toApplicationFailure(err);
      assert.ok(!(mapped instanceof ApplicationFailure && mapped.nonRetryable), 'mapped as permanent');
    } finally {
      await db.end();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
