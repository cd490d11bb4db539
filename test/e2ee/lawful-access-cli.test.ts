// The operator, requester and custodians at the command line: escrow create → send as the
// tenant (the CLI app fetches the escrow member itself) → access request → two approvals →
// access result. And bad input: exit 2, the option named, nothing started.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { stack } from '../fixtures/stack';
import { runCli } from '../fixtures/cli';
import type { CliRun } from '../fixtures/cli';
import { freshNumber } from './e2ee-fixtures';

const WORK = mkdtempSync(join(tmpdir(), 'switchboard-access-cli-'));
const cli = (args: string[]) => runCli(args, join(WORK, 'app'), { DATABASE_URL: stack().databaseUrl });

const json = <T>(out: CliRun): T => {
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as T;
};

describe('switchboard escrow / access (CLI)', function () {
  this.timeout(60_000);
  const sharesDir = join(WORK, 'shares');

  it('escrow create → send → access request → k approvals → access result', async () => {
    const created = json<{ escrowId: string; shareFiles: string[] }>(
      await cli([
        'escrow',
        'create',
        '--tenant',
        'cli-bank',
        '--threshold',
        '2',
        '--custodians',
        '3',
        '--shares-dir',
        sharesDir,
        '--json',
      ]),
    );
    assert.equal(created.shareFiles.length, 3);
    assert.equal(readdirSync(sharesDir).length, 3);
    for (const f of created.shareFiles) assert.equal(statSync(f).mode & 0o777, 0o600);

    const to = freshNumber('+1555010');
    await stack().carriers.phones?.ensure(to);
    const text = `cli escrowed ${randomUUID()}`;
    const sent = json<{ messageId: string; encrypted: boolean }>(
      await cli(['send', '--to', to, '--text', text, '--tenant', 'cli-bank', '--e2ee', 'required', '--json']),
    );
    assert.equal(sent.encrypted, true);
    await stack().switchboard.waitForOutcome(sent.messageId);

    const keyFile = join(WORK, 'requester.key');
    const filed = json<{ requestId: string }>(
      await cli([
        'access',
        'request',
        '--tenant',
        'cli-bank',
        '--message',
        sent.messageId,
        '--requester',
        'Officer CLI',
        '--case',
        'CASE-1',
        '--key-out',
        keyFile,
        '--window',
        '60s',
        '--json',
      ]),
    );
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    // Custodians look first: what is asked, and its digest, which their approval must match.
    const shown = json<{ request: { messageIds: string[]; caseReference: string; digest: string } }>(
      await cli(['access', 'status', filed.requestId, '--json']),
    );
    assert.deepEqual(shown.request.messageIds, [sent.messageId]);
    assert.equal(shown.request.caseReference, 'CASE-1');
    const [firstShare] = created.shareFiles;
    const wrongDigest = await cli([
      'access',
      'approve',
      filed.requestId,
      '--custodian',
      'careful',
      '--share-file',
      firstShare ?? '',
      '--digest',
      'ab'.repeat(32),
    ]);
    assert.equal(wrongDigest.code, 2);
    assert.match(wrongDigest.stderr, /digest: the digest `access status` shows/);
    for (const [i, file] of created.shareFiles.slice(0, 2).entries()) {
      const approved = json<{ shareIndex: number; accepted: boolean }>(
        await cli([
          'access',
          'approve',
          filed.requestId,
          '--custodian',
          `custodian-${i + 1}`,
          '--share-file',
          file,
          '--digest',
          shown.request.digest,
          '--json',
        ]),
      );
      assert.equal(approved.shareIndex, i + 1);
      assert.equal(approved.accepted, true);
    }
    const result = json<{ outcome: string; messages: { messageId: string; ok: boolean; text: string }[] }>(
      await cli(['access', 'result', filed.requestId, '--key', keyFile, '--json']),
    );
    assert.equal(result.outcome, 'granted');
    assert.deepEqual(
      result.messages.map((m) => [m.messageId, m.ok, m.text]),
      [[sent.messageId, true, text]],
    );
    const status = await cli(['access', 'status', filed.requestId]);
    assert.match(status.stdout, /granted; approvals 2 of 2/);

    // The transparency report counts it, from the audit trail.
    const report = json<{
      tenants: { tenant: string; requests: number; granted: number; messagesOpened: number }[];
    }>(await cli(['access', 'report', '--from', '2026-01-01', '--json']));
    assert.deepEqual(
      report.tenants
        .filter((t) => t.tenant === 'cli-bank')
        .map((t) => [t.requests, t.granted, t.messagesOpened]),
      [[1, 1, 1]],
    );
  });

  const refusals: [string, string[], RegExp][] = [
    [
      'a threshold above the custodians',
      [
        'escrow',
        'create',
        '--tenant',
        'x',
        '--threshold',
        '4',
        '--custodians',
        '3',
        '--shares-dir',
        join(WORK, 'bad'),
      ],
      /--threshold: a whole number from 2 to 3/,
    ],
    [
      'a bad tenant',
      [
        'escrow',
        'create',
        '--tenant',
        'Bad Tenant',
        '--threshold',
        '2',
        '--custodians',
        '3',
        '--shares-dir',
        join(WORK, 'bad'),
      ],
      /--tenant/,
    ],
    [
      'a window that is not a duration',
      [
        'access',
        'request',
        '--tenant',
        'cli-bank',
        '--message',
        randomUUID(),
        '--requester',
        'r',
        '--case',
        'c',
        '--key-out',
        join(WORK, 'k1'),
        '--window',
        'soon',
      ],
      /--window: a duration/,
    ],
    [
      'a message id that is not one',
      [
        'access',
        'request',
        '--tenant',
        'cli-bank',
        '--message',
        'abc',
        '--requester',
        'r',
        '--case',
        'c',
        '--key-out',
        join(WORK, 'k2'),
      ],
      /messageIds: 1 to 100 distinct message ids/,
    ],
    [
      'a share file that is not one',
      ['access', 'approve', randomUUID(), '--custodian', 'c', '--share-file', join(WORK, 'requester.key')],
      /--share-file/,
    ],
    ['an unknown request', ['access', 'status', randomUUID()], /no lawful-access request/],
    [
      'a report window that is not a date',
      ['access', 'report', '--from', 'last week'],
      /--from: an ISO 8601 date/,
    ],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}, naming it`, async () => {
      const out = await cli(args);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, message);
    });
  }
});
