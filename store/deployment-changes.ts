// Every change to which build of the delivery workers takes new messages (promote, ramp,
// rollback, and a worker making the first build current), kept like rollout versions: rows are
// only ever added, so the build behind any message's routing can be traced, and `deploy rollback`
// knows what was current before.
import type { Database } from './database';

// Listed in store/migrations.ts.
export const deploymentChangesMigration = {
  id: 21,
  name: 'worker deployment changes',
  sql: `
    CREATE TABLE deployment_changes (
      id               bigserial   PRIMARY KEY,
      deployment       text        NOT NULL,
      action           text        NOT NULL CHECK (action IN ('promote', 'ramp', 'rollback')),
      -- The build made current (promote, rollback to a build) or ramping (ramp); null: the ramp ended.
      build_id         text,
      ramp_percent     real        CHECK (ramp_percent BETWEEN 0 AND 100),
      previous_current text,
      previous_ramping text,
      actor            text        NOT NULL,
      note             text,
      changed_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX deployment_changes_latest ON deployment_changes (deployment, id DESC);
    CREATE FUNCTION deployment_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'deployment_changes is append-only';
    END $$;
    CREATE TRIGGER deployment_changes_append_only BEFORE UPDATE OR DELETE ON deployment_changes
      FOR EACH ROW EXECUTE FUNCTION deployment_changes_append_only();
  `,
};

export type DeploymentAction = 'promote' | 'ramp' | 'rollback';

export interface DeploymentChange {
  deployment: string;
  action: DeploymentAction;
  buildId: string | null;
  rampPercent: number | null;
  previousCurrent: string | null;
  previousRamping: string | null;
  actor: string;
  note: string | null;
}

export interface RecordedDeploymentChange extends DeploymentChange {
  id: string;
  changedAt: string;
}

interface Row {
  id: string;
  deployment: string;
  action: DeploymentAction;
  build_id: string | null;
  ramp_percent: number | null;
  previous_current: string | null;
  previous_ramping: string | null;
  actor: string;
  note: string | null;
  changed_at: Date;
}

const fromRow = (r: Row): RecordedDeploymentChange => ({
  id: r.id,
  deployment: r.deployment,
  action: r.action,
  buildId: r.build_id,
  rampPercent: r.ramp_percent,
  previousCurrent: r.previous_current,
  previousRamping: r.previous_ramping,
  actor: r.actor,
  note: r.note,
  changedAt: r.changed_at.toISOString(),
});

export class DeploymentChanges {
  constructor(private readonly db: Database) {}

  async record(change: DeploymentChange): Promise<RecordedDeploymentChange> {
    const { rows } = await this.db.query<Row>(
      `INSERT INTO deployment_changes
         (deployment, action, build_id, ramp_percent, previous_current, previous_ramping, actor, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        change.deployment,
        change.action,
        change.buildId,
        change.rampPercent,
        change.previousCurrent,
        change.previousRamping,
        change.actor,
        change.note,
      ],
    );
    return fromRow(rows[0] as Row);
  }

  /** Newest first. */
  async history(deployment: string, limit = 20): Promise<RecordedDeploymentChange[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT * FROM deployment_changes WHERE deployment = $1 ORDER BY id DESC LIMIT $2',
      [deployment, limit],
    );
    return rows.map(fromRow);
  }

  /** The build that was current before `buildId` was last promoted, if that was recorded. */
  async currentBefore(deployment: string, buildId: string): Promise<string | null> {
    const { rows } = await this.db.query<{ previous_current: string | null }>(
      `SELECT previous_current FROM deployment_changes
       WHERE deployment = $1 AND build_id = $2 AND action = 'promote'
       ORDER BY id DESC LIMIT 1`,
      [deployment, buildId],
    );
    return rows[0]?.previous_current ?? null;
  }
}
