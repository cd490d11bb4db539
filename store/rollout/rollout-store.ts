import type { Flow } from '../../domain/message';
import type { Phase, RolloutConfig } from '../../domain/rollout';
import { inTransaction } from '../database';
import type { Database } from '../database';

export class NoGoodVersionError extends Error {
  override readonly name = 'NoGoodVersionError';
  constructor(region: string) {
    super(`region ${region} has no earlier version marked good to roll back to`);
  }
}

export interface RolloutChange {
  phase?: Phase;
  pilotPercent?: number;
  killSwitch?: boolean;
  flowOverrides?: Partial<Record<Flow, Phase>>;
  good?: boolean;
  note?: string;
}

interface Row {
  region: string;
  version: number;
  phase: Phase;
  pilot_percent: string;
  kill_switch: boolean;
  flow_overrides: Partial<Record<Flow, Phase>>;
  good: boolean;
  note: string | null;
  created_at: Date;
}

const fromRow = (r: Row): RolloutConfig => ({
  region: r.region,
  version: r.version,
  phase: r.phase,
  pilotPercent: Number(r.pilot_percent),
  killSwitch: r.kill_switch,
  flowOverrides: r.flow_overrides,
  good: r.good,
  note: r.note,
  createdAt: r.created_at.toISOString(),
});

/** Versioned rollout configs per region. A change is a new version; rollback copies an older good one. */
export class RolloutStore {
  constructor(
    private readonly db: Database,
    private readonly defaultPhase: Phase,
  ) {}

  defaultFor(region: string): RolloutConfig {
    return {
      region,
      version: 0,
      phase: this.defaultPhase,
      pilotPercent: 0,
      killSwitch: false,
      flowOverrides: {},
      good: true,
      note: 'built-in default (ROLLOUT_DEFAULT_PHASE)',
      createdAt: null,
    };
  }

  async current(region: string): Promise<RolloutConfig> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM rollout_configs WHERE region = $1 ORDER BY version DESC LIMIT 1',
      [region],
    );
    return rows[0] ? fromRow(rows[0]) : this.defaultFor(region);
  }

  async history(region: string, limit = 20): Promise<RolloutConfig[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM rollout_configs WHERE region = $1 ORDER BY version DESC LIMIT $2',
      [region, limit],
    );
    return rows.map(fromRow);
  }

  async regions(): Promise<string[]> {
    const { rows } = await this.db.query<{ region: string }>(
      'SELECT DISTINCT region FROM rollout_configs ORDER BY 1',
    );
    return rows.map((r) => r.region);
  }

  /** Writes the next version: the current one with `change` applied. */
  async set(region: string, change: RolloutChange): Promise<RolloutConfig> {
    return inTransaction(this.db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rollout:${region}`]);
      const { rows } = await client.query<Row>(
        'SELECT * FROM rollout_configs WHERE region = $1 ORDER BY version DESC LIMIT 1',
        [region],
      );
      const base = rows[0] ? fromRow(rows[0]) : this.defaultFor(region);
      const next = {
        phase: change.phase ?? base.phase,
        pilotPercent: change.pilotPercent ?? base.pilotPercent,
        killSwitch: change.killSwitch ?? base.killSwitch,
        flowOverrides: change.flowOverrides ?? base.flowOverrides,
      };
      const inserted = await client.query<Row>(
        `INSERT INTO rollout_configs (region, version, phase, pilot_percent, kill_switch, flow_overrides, good, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [
          region,
          base.version + 1,
          next.phase,
          next.pilotPercent,
          next.killSwitch,
          JSON.stringify(next.flowOverrides),
          change.good ?? false,
          change.note ?? null,
        ],
      );
      return fromRow(inserted.rows[0] as Row);
    });
  }

  async markGood(region: string, version?: number): Promise<RolloutConfig> {
    const target = version ?? (await this.current(region)).version;
    const { rows } = await this.db.query<Row>(
      'UPDATE rollout_configs SET good = true WHERE region = $1 AND version = $2 RETURNING *',
      [region, target],
    );
    if (!rows[0]) throw new Error(`region ${region} has no version ${target}`);
    return fromRow(rows[0]);
  }

  /** A new version equal to the newest good version older than the current one. */
  async rollback(region: string, note = 'rollback'): Promise<RolloutConfig> {
    const current = await this.current(region);
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM rollout_configs WHERE region = $1 AND good AND version < $2 ORDER BY version DESC LIMIT 1',
      [region, current.version],
    );
    // The built-in default counts as good: a region with no good version falls back to it.
    const target = rows[0] ? fromRow(rows[0]) : current.version > 0 ? this.defaultFor(region) : null;
    if (!target) throw new NoGoodVersionError(region);
    return this.set(region, {
      phase: target.phase,
      pilotPercent: target.pilotPercent,
      killSwitch: target.killSwitch,
      flowOverrides: target.flowOverrides,
      good: true,
      note: `${note} to v${target.version}`,
    });
  }
}
