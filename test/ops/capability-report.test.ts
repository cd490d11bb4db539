import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../store/audit-log';
import { runCli } from '../fixtures/cli';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';

const APP_DIR = mkdtempSync(join(tmpdir(), 'switchboard-report-app-'));

describe('switchboard report capability', function () {
  this.timeout(60_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase('cap_report');
    const log = new AuditLog(database.db, 'report-test-audit-hash-key');
    const now = Date.now();
    let n = 0;
    const routed = (
      recipient: string,
      region: string,
      rcs: boolean | null,
      e2ee: boolean | null,
      agoMs: number,
    ) =>
      log.append({ tenant: 'acme', recipient, region, flow: 'standard' }, [
        {
          messageId: `r${n++}`,
          seq: 0,
          event: 'routed',
          channel: null,
          result: null,
          errorCode: null,
          detail: { plan: rcs ? 'rcs>sms' : 'sms', rcs, e2ee },
          occurredAt: new Date(now - agoMs).toISOString(),
        },
      ]);
    // eu: a is seen as SMS-only, then (last) as RCS + E2EE: counted once, as RCS + E2EE.
    await routed('+15550000001', 'eu', false, false, 3_600_000);
    await routed('+15550000001', 'eu', true, true, 60_000);
    await routed('+15550000002', 'eu', true, false, 60_000);
    await routed('+15550000003', 'eu', false, false, 60_000);
    await routed('+15550000004', 'eu', null, null, 60_000);
    // us: one RCS recipient, and one outside the 30-day window.
    await routed('+15550000005', 'us', true, false, 60_000);
    await routed('+15550000006', 'us', false, false, 40 * 86_400_000);
  });

  after(() => database.drop());

  const report = (args: string[]) =>
    runCli(['report', 'capability', ...args], APP_DIR, { DATABASE_URL: database.url });

  it('--json: shares per region, each recipient once as last seen, within the window', async () => {
    const { code, stdout, stderr } = await report(['--json']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), [
      {
        region: 'eu',
        carrier: 'unknown',
        recipients: 4,
        rcs: 0.5,
        rcsE2ee: 0.25,
        smsOnly: 0.25,
        unknown: 0.25,
      },
      { region: 'us', carrier: 'unknown', recipients: 1, rcs: 1, rcsE2ee: 0, smsOnly: 0, unknown: 0 },
    ]);
  });

  it('--region narrows to one region; human output says the carrier is unknown', async () => {
    const { code, stdout } = await report(['--region', 'us']);
    assert.equal(code, 0);
    assert.equal(
      stdout,
      'us     carrier: unknown  1 recipients  RCS 100 %  RCS+E2EE 0 %  SMS-only 0 %  unknown 0 %\n',
    );
    const bad = await report(['--region', 'EU West']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--region: lowercase letters/);
  });
});
