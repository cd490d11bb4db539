// `switchboard escrow create|show` (an operator sets up a regulated tenant) and
// `switchboard access request|approve|status|result` (requester and custodians). Shares and the
// requester's key go to files with mode 0600 and never to stdout; output never holds a text.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createEscrow, decodeEscrowShare, encodeEscrowShare } from '../e2ee/escrow';
import type { EscrowStore } from '../store/escrow-store';
import { accessReport } from '../store/access-report';
import type { AccessReportRow } from '../store/access-report';
import type { Database } from '../store/database';
import { parseInstant } from './audit-commands';
import type { LawfulAccessClient } from './lawful-access-client';
import type { AccessRequestSummary } from '../domain/lawful-access';
import { ValidationError } from './validation';

type WithEscrows = (run: (escrows: EscrowStore) => Promise<void>) => Promise<void>;
type WithAccess = (run: (access: LawfulAccessClient) => Promise<void>) => Promise<void>;
type WithDatabase = (run: (db: Database) => Promise<void>) => Promise<void>;

const print = (json: boolean | undefined, value: unknown, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);

function integer(option: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ValidationError(option, `a whole number from ${min} to ${max}`);
  return n;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseWindow(option: string, value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (!m) throw new ValidationError(option, 'a duration such as 90s, 30m, 72h or 7d');
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

function writeSecretFile(option: string, file: string, content: string): void {
  if (existsSync(file))
    throw new ValidationError(option, 'a file that does not exist yet (it is never overwritten)');
  writeFileSync(file, `${content}\n`, { mode: 0o600, flag: 'wx' });
}

function readSecretFile(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new ValidationError(option, 'a readable file');
  }
}

/** What a custodian approves, shown before and after they hand in their share. */
function describeRequest(r: AccessRequestSummary): string[] {
  return [
    `  tenant     ${r.tenant}`,
    `  requester  ${r.requester}`,
    `  case       ${r.caseReference}`,
    `  messages   ${r.messageIds.join(', ')}`,
    `  digest     ${r.digest}`,
  ];
}

export function registerEscrowCommands(program: Command, withEscrows: WithEscrows): void {
  const escrow = program
    .command('escrow')
    .description("a regulated tenant's escrow member and its custodians' shares");

  escrow
    .command('create')
    .description(
      'create the escrow for a tenant (replacing its current one) and write one share file per custodian',
    )
    .requiredOption('--tenant <tenant>', 'the tenant')
    .requiredOption('--threshold <k>', 'approvals needed to open a message')
    .requiredOption('--custodians <n>', 'shares issued, one per custodian')
    .requiredOption(
      '--shares-dir <dir>',
      'where the share files go (hand each to its custodian, then delete it)',
    )
    .option('--json', 'one JSON object on stdout')
    .action(
      async (opts: {
        tenant: string;
        threshold: string;
        custodians: string;
        sharesDir: string;
        json?: boolean;
      }) => {
        if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.tenant)) {
          throw new ValidationError('--tenant', 'lowercase letters, digits and dashes');
        }
        const custodians = integer('--custodians', opts.custodians, 2, 255);
        const threshold = integer('--threshold', opts.threshold, 2, custodians);
        mkdirSync(opts.sharesDir, { recursive: true, mode: 0o700 });
        await withEscrows(async (escrows) => {
          const { record, shares } = await createEscrow({ tenant: opts.tenant, threshold, custodians });
          const files = shares.map((s) =>
            join(opts.sharesDir, `${opts.tenant}-${record.escrowId}-share-${s.index}.txt`),
          );
          // Files first: an escrow whose shares were never written could never be opened.
          shares.forEach((s, i) => writeSecretFile('--shares-dir', files[i] as string, encodeEscrowShare(s)));
          await escrows.activate(record);
          print(
            opts.json,
            { tenant: opts.tenant, escrowId: record.escrowId, threshold, custodians, shareFiles: files },
            [
              `tenant ${opts.tenant}: escrow ${record.escrowId}, ${threshold} of ${custodians} custodians`,
              ...files.map((f) => `  share file ${f}`),
              'Hand each file to its custodian and delete it here. Nothing can rebuild a lost share.',
            ].join('\n'),
          );
        });
      },
    );

  escrow
    .command('show')
    .description("a tenant's active escrow")
    .requiredOption('--tenant <tenant>', 'the tenant')
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      await withEscrows(async (escrows) => {
        const record = await escrows.activeEscrow(opts.tenant);
        if (!record) {
          print(opts.json, { tenant: opts.tenant, escrowId: null }, `tenant ${opts.tenant} has no escrow`);
          return;
        }
        const { escrowId, threshold, custodians } = record;
        print(
          opts.json,
          { tenant: opts.tenant, escrowId, threshold, custodians },
          `tenant ${opts.tenant}: escrow ${escrowId}, ${threshold} of ${custodians} custodians`,
        );
      });
    });
}

export function registerAccessCommands(
  program: Command,
  withAccess: WithAccess,
  withDatabase: WithDatabase,
): void {
  const access = program
    .command('access')
    .description('lawful access to escrowed messages (k custodian approvals)');

  access
    .command('report')
    .description('transparency report: requests per tenant and what became of them, from the audit trail')
    .option('--from <date>', 'ISO 8601 date or date-time with offset (inclusive)')
    .option('--to <date>', 'ISO 8601 date or date-time with offset (exclusive)')
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: { from?: string; to?: string; json?: boolean }) => {
      const from = parseInstant('--from', opts.from);
      const to = parseInstant('--to', opts.to);
      await withDatabase(async (db) => {
        const rows = await accessReport(db, { from, to });
        const refused = (r: AccessReportRow) =>
          Object.entries(r.refused)
            .map(([reason, n]) => `${reason} ${n}`)
            .join(', ') || '0';
        print(
          opts.json,
          { from: from?.toISOString() ?? null, to: to?.toISOString() ?? null, tenants: rows },
          rows.length === 0
            ? 'no lawful-access requests in this window'
            : rows
                .map(
                  (r) =>
                    `${r.tenant}: ${r.requests} requests, ${r.granted} granted, refused: ${refused(r)}; ` +
                    `${r.messagesOpened} messages opened; approvals ${r.approvalsAccepted} accepted, ${r.approvalsRejected} rejected`,
                )
                .join('\n'),
        );
      });
    });

  access
    .command('request')
    .description('ask to open named messages of an escrowed tenant; prints the request id')
    .requiredOption('--tenant <tenant>', 'the tenant')
    .requiredOption('--message <id...>', 'message ids, as `send` printed them')
    .requiredOption('--requester <who>', 'who asks (audited)')
    .requiredOption('--case <reference>', 'the legal authority, e.g. a warrant number (audited)')
    .requiredOption('--key-out <file>', 'where the requester key goes: only it opens the result')
    .option('--window <duration>', 'approvals must arrive within it', '72h')
    .option('--json', 'one JSON object on stdout')
    .action(
      async (opts: {
        tenant: string;
        message: string[];
        requester: string;
        case: string;
        keyOut: string;
        window: string;
        json?: boolean;
      }) => {
        const approvalWindowMs = parseWindow('--window', opts.window);
        if (existsSync(opts.keyOut)) throw new ValidationError('--key-out', 'a file that does not exist yet');
        await withAccess(async (client) => {
          const filed = await client.request({
            tenant: opts.tenant,
            messageIds: opts.message,
            requester: opts.requester,
            caseReference: opts.case,
            approvalWindowMs,
          });
          writeSecretFile('--key-out', opts.keyOut, Buffer.from(filed.requesterKey).toString('base64url'));
          print(
            opts.json,
            { requestId: filed.requestId, workflowId: filed.workflowId, keyFile: opts.keyOut },
            `request ${filed.requestId} filed; custodians approve with \`switchboard access approve ${filed.requestId}\``,
          );
        });
      },
    );

  access
    .command('approve')
    .description("a custodian's approval: hands in their share, sealed to the request")
    .argument('<requestId>')
    .requiredOption('--custodian <name>', 'who approves (audited)')
    .requiredOption('--share-file <file>', "the custodian's share file")
    .option(
      '--digest <hex>',
      'approve only if the request is the one whose digest `access status` showed you',
    )
    .option('--json', 'one JSON object on stdout')
    .action(
      async (
        requestId: string,
        opts: { custodian: string; shareFile: string; digest?: string; json?: boolean },
      ) => {
        let share;
        try {
          share = decodeEscrowShare(readSecretFile('--share-file', opts.shareFile));
        } catch (err) {
          if (err instanceof ValidationError) throw err;
          throw new ValidationError('--share-file', 'a share file written by `switchboard escrow create`');
        }
        await withAccess(async (client) => {
          const { accepted, status } = await client.approve(requestId, opts.custodian, share, {
            ...(opts.digest ? { expectDigest: opts.digest } : {}),
          });
          const verdict = accepted === null ? 'handed in' : accepted ? 'accepted' : 'REJECTED';
          print(
            opts.json,
            { requestId, shareIndex: share.index, accepted, status },
            [
              `share ${share.index} ${verdict}; request ${requestId}: ${status.state}, ` +
                `${status.approvedShares.length} of ${status.threshold ?? '?'} valid approvals`,
              ...(status.request ? describeRequest(status.request) : []),
            ].join('\n'),
          );
          if (accepted === false) process.exitCode = 1;
        });
      },
    );

  access
    .command('status')
    .description('where a request stands')
    .argument('<requestId>')
    .option('--json', 'one JSON object on stdout')
    .action(async (requestId: string, opts: { json?: boolean }) => {
      await withAccess(async (client) => {
        const s = await client.status(requestId);
        const lines = [
          `request ${requestId}: ${s.state}; approvals ${s.approvedShares.length} of ${s.threshold ?? '?'}` +
            (s.deadline ? `; deadline ${s.deadline}` : ''),
          ...(s.request ? describeRequest(s.request) : []),
        ];
        print(opts.json, s, lines.join('\n'));
      });
    });

  access
    .command('result')
    .description('wait for the request to close and open the granted messages with the requester key')
    .argument('<requestId>')
    .requiredOption('--key <file>', 'the requester key file written by `access request`')
    .option('--json', 'one JSON object on stdout')
    .action(async (requestId: string, opts: { key: string; json?: boolean }) => {
      const key = new Uint8Array(Buffer.from(readSecretFile('--key', opts.key), 'base64url'));
      if (key.length !== 32)
        throw new ValidationError('--key', 'a requester key file written by `access request`');
      await withAccess(async (client) => {
        if (!opts.json) process.stderr.write(`waiting for request ${requestId} to close…\n`);
        const result = await client.result(requestId, key);
        const messages = result.messages.map((m) =>
          m.ok
            ? {
                messageId: m.messageId,
                ok: true,
                text: m.text,
                plaintext: Buffer.from(m.plaintext).toString('base64'),
              }
            : m,
        );
        const lines = [
          `request ${requestId}: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`,
          ...result.messages.map((m) =>
            m.ok
              ? `${m.messageId}: ${m.text ?? `<${m.plaintext.length} bytes>`}`
              : `${m.messageId}: not opened (${m.code})`,
          ),
        ];
        print(opts.json, { ...result, messages }, lines.join('\n'));
        if (result.outcome !== 'granted') process.exitCode = 1;
      });
    });
}
