// Recomputes the audit hash chains and reports the first broken link.
//
// Reads in one REPEATABLE READ snapshot, so rows appended meanwhile neither appear half-way nor
// look like a cut-off tail. Each chain starts from, in order of preference: the last row before
// the window (`from`, trusted as the anchor, not itself checked), the latest anchor retention
// left for a dropped partition, or the genesis hash. The window is on recorded_at, the time the
// chain order follows. Without `to`, each chain's end must also match audit_chain_heads.

import { AUDIT_SHARDS, CHAINED_ROW_SELECT, GENESIS_HASH, rowHash, shardOf } from './audit-chain';
import type { PoolClient } from 'pg';
import type { ChainedRowText } from './audit-chain';
import { SNAPSHOT, inTransaction } from './database';
import type { Database } from './database';

export type BreakReason =
  /** The row's content no longer matches its row_hash: it was edited. */
  | 'hash mismatch'
  /** shard_seq skips: the row(s) before this one are gone. */
  | 'missing predecessor'
  /** prev_hash is not the previous row's row_hash: a row was replaced, hash and all. */
  | 'broken link'
  /** Two rows claim the same place in the chain. */
  | 'duplicate position'
  /** The row sits in a chain its message id does not belong to. */
  | 'wrong chain'
  /** The chain ends before the last link recorded in audit_chain_heads: rows cut off the end. */
  | 'missing tail'
  /** The chain's last row is not the link recorded in audit_chain_heads. */
  | 'head mismatch';

export interface ChainBreak {
  shard: number;
  shardSeq: number;
  /** Null when the row in question is gone ('missing tail'). */
  messageId: string | null;
  seq: number | null;
  recordedAt: string | null;
  reason: BreakReason;
}

export interface AuditVerifyReport {
  rowsChecked: number;
  /** Chains with at least one row in the window. */
  chains: number;
  from: string | null;
  to: string | null;
  /** The earliest break (by recorded_at) over all chains, or null when every chain is intact. */
  firstBroken: ChainBreak | null;
  /** The first break of each broken chain. */
  breaks: ChainBreak[];
}

export interface AuditVerifyOptions {
  from?: Date;
  to?: Date;
  /** Rows per FETCH; memory stays bounded whatever the table's size. */
  batchSize?: number;
}

interface Link {
  seq: bigint;
  hash: string;
}

type Row = ChainedRowText & { rowHash: string };

/** Checks one row against the link before it; returns why it breaks the chain, or null. */
function check(row: Row, prev: Link): BreakReason | null {
  const at = BigInt(row.shardSeq);
  if (at <= prev.seq) return 'duplicate position';
  if (at !== prev.seq + 1n) return 'missing predecessor';
  if (row.prevHash !== prev.hash) return 'broken link';
  if (rowHash(row) !== row.rowHash) return 'hash mismatch';
  if (shardOf(row.messageId) !== Number(row.shard)) return 'wrong chain';
  return null;
}

async function startingLinks(client: PoolClient, from: Date | undefined): Promise<Map<number, Link>> {
  const starts = new Map<number, Link>();
  for (let s = 0; s < AUDIT_SHARDS; s++) starts.set(s, { seq: 0n, hash: GENESIS_HASH });
  const anchors = await client.query<{ shard: number; shard_seq: string; row_hash: string }>(
    `SELECT DISTINCT ON (shard) shard, shard_seq::text, row_hash FROM audit_anchors
     ORDER BY shard, shard_seq DESC`,
  );
  for (const a of anchors.rows) starts.set(a.shard, { seq: BigInt(a.shard_seq), hash: a.row_hash });
  if (from) {
    // One index probe per chain (LIMIT 1 per shard), rather than reading everything before `from`.
    const before = await client.query<{ shard: number; shard_seq: string; row_hash: string }>(
      `SELECT s AS shard, last.shard_seq::text, last.row_hash
       FROM generate_series(0, $2::int - 1) s
       CROSS JOIN LATERAL (
         SELECT shard_seq, row_hash FROM audit_log
         WHERE shard = s AND recorded_at < $1 ORDER BY shard_seq DESC LIMIT 1
       ) last`,
      [from, AUDIT_SHARDS],
    );
    for (const b of before.rows) starts.set(b.shard, { seq: BigInt(b.shard_seq), hash: b.row_hash });
  }
  return starts;
}

export async function verifyAuditChain(
  db: Database,
  options: AuditVerifyOptions = {},
): Promise<AuditVerifyReport> {
  const { from, to, batchSize = 2000 } = options;
  const breaks = new Map<number, ChainBreak>();
  const note = (b: ChainBreak) => {
    if (!breaks.has(b.shard)) breaks.set(b.shard, b);
  };
  let rowsChecked = 0;
  const seen = new Set<number>();
  await inTransaction(
    db,
    async (client) => {
      const starts = await startingLinks(client, from);
      const heads = await client.query<{ shard: number; shard_seq: string; row_hash: string }>(
        'SELECT shard, shard_seq::text, row_hash FROM audit_chain_heads',
      );
      const current = new Map(starts);

      await client.query(
        `DECLARE audit_verify NO SCROLL CURSOR FOR
       SELECT ${CHAINED_ROW_SELECT} FROM audit_log
       WHERE ($1::timestamptz IS NULL OR recorded_at >= $1) AND ($2::timestamptz IS NULL OR recorded_at < $2)
       ORDER BY shard, shard_seq`,
        [from ?? null, to ?? null],
      );
      for (;;) {
        const { rows } = await client.query<Row>(`FETCH ${batchSize} FROM audit_verify`);
        for (const row of rows) {
          const shard = Number(row.shard);
          seen.add(shard);
          rowsChecked++;
          const prev = current.get(shard) ?? { seq: 0n, hash: GENESIS_HASH };
          const reason = check(row, prev);
          if (reason) {
            note({
              shard,
              shardSeq: Number(row.shardSeq),
              messageId: row.messageId,
              seq: Number(row.seq),
              recordedAt: row.recordedAt,
              reason,
            });
          }
          // Carry on from the stored link, so one break does not mask or multiply others.
          current.set(shard, { seq: BigInt(row.shardSeq), hash: row.rowHash });
        }
        if (rows.length < batchSize) break;
      }

      if (!to) {
        for (const head of heads.rows) {
          const last = current.get(head.shard) ?? { seq: 0n, hash: GENESIS_HASH };
          const headSeq = BigInt(head.shard_seq);
          if (last.seq === headSeq && last.hash === head.row_hash) continue;
          note({
            shard: head.shard,
            shardSeq: Number(headSeq),
            messageId: null,
            seq: null,
            recordedAt: null,
            reason: last.seq < headSeq ? 'missing tail' : 'head mismatch',
          });
        }
      }
    },
    SNAPSHOT,
  );

  // Fixed-width UTC timestamps sort as strings; a gone row ('missing tail') sorts last.
  const when = (b: ChainBreak) => b.recordedAt ?? '~';
  const ordered = [...breaks.values()].sort((a, b) =>
    when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : a.shard - b.shard,
  );
  return {
    rowsChecked,
    chains: seen.size,
    from: from?.toISOString() ?? null,
    to: to?.toISOString() ?? null,
    firstBroken: ordered[0] ?? null,
    breaks: ordered,
  };
}
