// `switchboard audit verify` and `switchboard audit export`: proving the audit trail intact, and
// handing a legal requester its metadata. Output never holds a number or a message text: export
// rows carry only the keyed recipient hash, and errors name options, not the values given.

import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { AuditLog } from '../store/audit-log';
import { EXPORT_FORMATS, exportAudit } from '../store/audit-export';
import type { AuditExportQuery, ExportFormat } from '../store/audit-export';
import { verifyAuditChain } from '../store/audit-verify';
import type { AuditVerifyReport, ChainBreak } from '../store/audit-verify';
import type { Database } from '../store/database';
import { ValidationError } from './validation';

export const EXIT_AUDIT_BROKEN = 3;

export interface AuditCommandDeps {
  db: Database;
  auditLog: AuditLog;
}

/** Deps, or a function that opens them for one command and closes them after (as rollout does). */
export type AuditDepsSource =
  AuditCommandDeps | ((run: (deps: AuditCommandDeps) => Promise<void>) => Promise<void>);

export interface AuditCommandIo {
  stdout?: Writable;
  stderr?: Writable;
}

// A date, or a date-time with an explicit offset: a bare local time would depend on the
// operator's time zone, and a legal window must not.
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const MESSAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export function parseInstant(option: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = ISO.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(at.getTime())) {
    throw new ValidationError(
      option,
      'an ISO 8601 date or date-time with offset, e.g. 2026-01-31 or 2026-01-31T12:00:00Z',
    );
  }
  return at;
}

function timeWindow(opts: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const from = parseInstant('--from', opts.from);
  const to = parseInstant('--to', opts.to);
  if (from && to && from >= to) throw new ValidationError('--to', 'a time later than --from');
  return { from, to };
}

export interface ExportOptions {
  message?: string;
  recipient?: string;
  from?: string;
  to?: string;
  format?: string;
  requestedBy?: string;
  reference?: string;
}

/** The export's query and format, or a ValidationError naming the offending option. */
export function exportRequest(opts: ExportOptions): { query: AuditExportQuery; format: ExportFormat } {
  const format = opts.format ?? 'jsonl';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new ValidationError('--format', `one of ${EXPORT_FORMATS.join(', ')}`);
  if ((opts.message === undefined) === (opts.recipient === undefined))
    throw new ValidationError('--message', 'exactly one of --message <id> or --recipient <E.164>');
  if (opts.message !== undefined) {
    if (!MESSAGE_ID.test(opts.message))
      throw new ValidationError('--message', 'a message id (letters, digits, . _ : -, at most 200)');
    if (opts.from !== undefined || opts.to !== undefined)
      throw new ValidationError('--from', 'only with --recipient (a message export is the whole message)');
    return { query: { messageId: opts.message }, format: format as ExportFormat };
  }
  if (!E164.test(opts.recipient ?? ''))
    throw new ValidationError('--recipient', 'an E.164 number: "+", country code and subscriber number');
  if (opts.from === undefined) throw new ValidationError('--from', 'required with --recipient');
  if (opts.to === undefined) throw new ValidationError('--to', 'required with --recipient');
  const { from, to } = timeWindow(opts);
  return { query: { recipient: opts.recipient!, from: from!, to: to! }, format: format as ExportFormat };
}

function describeBreak(b: ChainBreak): string {
  const where = `chain ${b.shard}, link ${b.shardSeq}`;
  const row = b.messageId ? ` (message ${b.messageId}, seq ${b.seq}, recorded ${b.recordedAt})` : '';
  return `${where}${row}: ${b.reason}`;
}

export function verifyText(report: AuditVerifyReport): string {
  const scope =
    report.from || report.to ? ` between ${report.from ?? 'start'} and ${report.to ?? 'now'}` : '';
  if (!report.firstBroken)
    return `audit trail intact: ${report.rowsChecked} rows in ${report.chains} chains${scope}`;
  const lines = [
    `audit trail BROKEN: first broken link at ${describeBreak(report.firstBroken)}`,
    `${report.rowsChecked} rows checked in ${report.chains} chains${scope}; broken chains: ${report.breaks.length}`,
  ];
  for (const b of report.breaks.slice(1)) lines.push(`  also ${describeBreak(b)}`);
  return lines.join('\n');
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function registerAuditCommands(
  program: Command,
  deps: AuditDepsSource,
  io: AuditCommandIo = {},
): Command {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const withDeps = (run: (d: AuditCommandDeps) => Promise<void>) =>
    typeof deps === 'function' ? deps(run) : run(deps);

  const audit = program.command('audit').description('verify and export the tamper-evident audit trail');

  audit
    .command('verify')
    .description(`recompute the hash chains; exit 0 intact, ${EXIT_AUDIT_BROKEN} broken`)
    .option('--from <iso>', 'only rows recorded from this time (the row before is the anchor)')
    .option('--to <iso>', 'only rows recorded before this time')
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: { from?: string; to?: string; json?: boolean }) => {
      const range = timeWindow(opts);
      await withDeps(async ({ db }) => {
        const report = await verifyAuditChain(db, range);
        stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${verifyText(report)}\n`);
        if (report.firstBroken) process.exitCode = EXIT_AUDIT_BROKEN;
      });
    });

  audit
    .command('export')
    .description('metadata-only export for a legal request, to stdout; the export is itself audited')
    .option('--message <id>', 'every row of one message')
    .option('--recipient <e164>', 'every row of one recipient (with --from and --to)')
    .option('--from <iso>', 'recipient export: events from this time')
    .option('--to <iso>', 'recipient export: events before this time')
    .option('--format <format>', `${EXPORT_FORMATS.join(' or ')}`, 'jsonl')
    .option('--requested-by <name>', 'who asks, recorded in the audit trail (default: OS user)')
    .option('--reference <ref>', 'reference of the legal request, recorded in the audit trail')
    .action(async (opts: ExportOptions) => {
      const { query, format } = exportRequest(opts);
      const requestedBy = opts.requestedBy ?? operator();
      if (requestedBy.length === 0 || requestedBy.length > 200)
        throw new ValidationError('--requested-by', '1 to 200 characters');
      if (opts.reference !== undefined && (opts.reference.length === 0 || opts.reference.length > 200))
        throw new ValidationError('--reference', '1 to 200 characters');
      await withDeps(async ({ db, auditLog }) => {
        const result = await exportAudit(db, auditLog, query, {
          format,
          out: stdout,
          requestedBy,
          reference: opts.reference ?? null,
        });
        stderr.write(
          `exported ${result.rows} rows (${result.bytes} bytes, sha256 ${result.sha256}); recorded as ${result.exportId}\n`,
        );
      });
    });

  return audit;
}
