// Legal-request exports (store/audit-export.ts) and the `switchboard audit` commands, on a real
// PostgreSQL: metadata only, no number, no text, and every export leaves its own audit rows.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { EXIT_AUDIT_BROKEN, registerAuditCommands } from '../../client/audit-commands';
import { ValidationError } from '../../client/validation';
import { AuditLog } from '../../store/audit-log';
import { EXPORT_COLUMNS, exportAudit } from '../../store/audit-export';
import type { AuditExportQuery, ExportFormat } from '../../store/audit-export';
import { verifyAuditChain } from '../../store/audit-verify';
import type { Database } from '../../store/database';
import { createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';
import { HASH_KEY, RECIPIENT, TEXT, context, entry, newMessageId, tamper } from './audit-helpers';

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Neither the number (with or without "+") nor the message text anywhere in the output. */
function assertClean(output: string): void {
  assert.ok(!output.includes(RECIPIENT.slice(1)), 'no recipient number');
  assert.ok(!output.includes(TEXT), 'no message text');
}

describe('audit trail: export', () => {
  let testDb: TestDatabase;
  let db: Database;
  let log: AuditLog;
  const mine = [newMessageId(), newMessageId()];
  const other = newMessageId();
  const from = new Date(Date.now() - 3_600_000);
  const to = new Date(Date.now() + 3_600_000);

  before(async () => {
    testDb = await createTestDatabase('switchboard_audit_export');
    db = testDb.db;
    log = new AuditLog(db, HASH_KEY);
    for (const id of mine) await log.append(context(), [entry(id, 0), entry(id, 1, { errorCode: '503' })]);
    await log.append(context('+15550300001'), [entry(other, 0)]);
  });
  after(() => testDb?.drop());

  const run = async (query: AuditExportQuery, format: ExportFormat) => {
    const { out, text } = sink();
    const result = await exportAudit(db, log, query, {
      format,
      out,
      requestedBy: 'legal-team',
      reference: 'REQ-1',
    });
    return { result, output: text() };
  };

  for (const format of ['jsonl', 'csv'] as const) {
    it(`by message, as ${format}: that message's rows, metadata only`, async () => {
      const { result, output } = await run({ messageId: mine[0]! }, format);
      assert.equal(result.rows, 2);
      assertClean(output);
      const lines = output.trim().split(/\r?\n/);
      if (format === 'jsonl') {
        const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.deepEqual(
          rows.map((r) => [r.messageId, r.seq, r.errorCode]),
          [
            [mine[0], 0, null],
            [mine[0], 1, '503'],
          ],
        );
        assert.deepEqual(Object.keys(rows[0]!), [...EXPORT_COLUMNS]);
        assert.equal(rows[0]!.recipientHash, log.hashRecipient(RECIPIENT));
      } else {
        assert.equal(lines[0], EXPORT_COLUMNS.join(','));
        assert.equal(lines.length, 3);
        assert.ok(lines[1]!.startsWith(`${mine[0]},0,`));
        assert.ok(lines[1]!.includes('"{""e2ee"":""preferred""'), 'detail as quoted JSON');
      }
    });

    it(`by recipient and window, as ${format}: only that recipient's rows`, async () => {
      const { result, output } = await run({ recipient: RECIPIENT, from, to }, format);
      const lines = output
        .trim()
        .split(/\r?\n/)
        .slice(format === 'csv' ? 1 : 0);
      // Earlier exports of this recipient are part of its trail too (who looked, and when).
      assert.equal(
        lines.filter((l) => mine.some((id) => l.startsWith(format === 'csv' ? id : `{"messageId":"${id}"`)))
          .length,
        4,
      );
      assert.ok(lines.every((l) => mine.some((id) => l.includes(id)) || l.includes('export-')));
      assert.equal(result.rows, lines.length);
      assertClean(output);
      assert.ok(!output.includes(other));
      assert.ok(!output.includes(result.exportId), 'the export does not list itself');
    });
  }

  it('is itself audited: a request row before, a completion row with the digest after', async () => {
    const { result, output } = await run({ recipient: RECIPIENT, from, to }, 'jsonl');
    const trail = await log.forMessage(result.exportId);
    assert.deepEqual(
      trail.map((r) => r.event),
      ['export', 'export_completed'],
    );
    assert.equal(trail[0]!.recipientHash, log.hashRecipient(RECIPIENT));
    assert.deepEqual(trail[0]!.detail, {
      query: 'recipient',
      targetMessageId: null,
      from: from.toISOString(),
      to: to.toISOString(),
      format: 'jsonl',
      requestedBy: 'legal-team',
      reference: 'REQ-1',
    });
    assert.equal(trail[1]!.detail.rows, result.rows);
    assert.equal(output.trim().split('\n').length, result.rows);
    assert.equal(trail[1]!.detail.sha256, result.sha256);
    assert.equal(trail[1]!.detail.bytes, Buffer.byteLength(output));
    assertClean(JSON.stringify(trail));
    // A later export of that recipient shows the earlier access.
    const again = await run({ recipient: RECIPIENT, from, to: new Date(Date.now() + 7_200_000) }, 'jsonl');
    assert.ok(again.output.includes(result.exportId));
    assert.equal((await verifyAuditChain(db)).firstBroken, null);
  });

  it('refuses a bad recipient without echoing it', async () => {
    await assert.rejects(
      run({ recipient: '15550100001', from, to }, 'jsonl'),
      (err: Error) => /recipient/.test(err.message) && !err.message.includes('15550100001'),
    );
  });

  describe('switchboard audit', () => {
    const cli = async (args: string[]) => {
      const stdout = sink();
      const stderr = sink();
      const program = new Command('switchboard').exitOverride();
      registerAuditCommands(program, { db, auditLog: log }, { stdout: stdout.out, stderr: stderr.out });
      process.exitCode = undefined;
      try {
        await program.parseAsync(['node', 'switchboard', 'audit', ...args]);
        return { code: process.exitCode ?? 0, stdout: stdout.text(), stderr: stderr.text() };
      } finally {
        process.exitCode = undefined;
      }
    };

    it('verify --json: intact, exit 0', async () => {
      const { code, stdout } = await cli(['verify', '--json']);
      assert.equal(code, 0);
      assert.equal((JSON.parse(stdout) as { firstBroken: unknown }).firstBroken, null);
    });

    it('export --message --format csv writes csv to stdout and the export id to stderr', async () => {
      const { code, stdout, stderr } = await cli(['export', '--message', mine[1]!, '--format', 'csv']);
      assert.equal(code, 0);
      assert.equal(stdout.trim().split(/\r?\n/).length, 3);
      assert.match(stderr, /exported 2 rows .* recorded as export-/);
      assertClean(stdout + stderr);
    });

    it('export --recipient writes jsonl', async () => {
      const { stdout } = await cli([
        'export',
        '--recipient',
        RECIPIENT,
        '--from',
        from.toISOString(),
        '--to',
        to.toISOString(),
      ]);
      assert.ok(stdout.trim().split('\n').length >= 4);
      assertClean(stdout);
    });

    for (const [args, option] of [
      [['export'], '--message'],
      [['export', '--message', 'm', '--recipient', RECIPIENT], '--message'],
      [['export', '--recipient', '+1555', '--from', '2026-01-01', '--to', '2026-02-01'], '--recipient'],
      [['export', '--recipient', RECIPIENT, '--to', '2026-02-01'], '--from'],
      [['export', '--recipient', RECIPIENT, '--from', '2026-01-01'], '--to'],
      [['export', '--recipient', RECIPIENT, '--from', '2026-02-01', '--to', '2026-01-01'], '--to'],
      [['export', '--message', 'm', '--format', 'xml'], '--format'],
      [['export', '--message', 'm', '--from', '2026-01-01'], '--from'],
      [['verify', '--from', '2026-01-01T10:00'], '--from'],
      [['verify', '--to', 'yesterday'], '--to'],
    ] as const) {
      const shown = args.map((a) => (a === RECIPIENT ? '<E.164>' : a)).join(' ');
      it(`refuses ${shown} naming ${option}`, async () => {
        await assert.rejects(
          cli([...args]),
          (err: unknown) =>
            err instanceof ValidationError && err.field === option && !err.message.includes(RECIPIENT),
        );
      });
    }

    it(`verify: a broken trail exits ${EXIT_AUDIT_BROKEN} and names the first broken link`, async () => {
      const [row] = await log.forMessage(mine[0]!);
      await tamper(db, `UPDATE audit_log SET error_code = 'x' WHERE message_id = '${mine[0]}' AND seq = 0`);
      const { code, stdout } = await cli(['verify']);
      assert.equal(code, EXIT_AUDIT_BROKEN);
      assert.match(
        stdout,
        new RegExp(`BROKEN: first broken link at chain ${row!.shard}, link ${row!.shardSeq} `),
      );
      assert.match(stdout, /hash mismatch/);
    });
  });
});
