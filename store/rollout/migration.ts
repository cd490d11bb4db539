// Listed in store/migrations.ts; typed there, so this module needs no import back.
export const rolloutMigration = {
  id: 8,
  name: 'rollout configs, recipient preferences, guard state',
  sql: `
    -- Every change is a new version; nothing is edited in place, so any decision can be traced to
    -- the exact config that made it and a rollback is a new version copying an older one.
    CREATE TABLE rollout_configs (
      region         text        NOT NULL,
      version        integer     NOT NULL,
      phase          text        NOT NULL CHECK (phase IN ('sms-only', 'pilot', 'rcs-first', 'rcs-default')),
      pilot_percent  numeric(5,2) NOT NULL DEFAULT 0 CHECK (pilot_percent >= 0 AND pilot_percent <= 100),
      kill_switch    boolean     NOT NULL DEFAULT false,
      flow_overrides jsonb       NOT NULL DEFAULT '{}'::jsonb,
      good           boolean     NOT NULL DEFAULT false,
      note           text,
      created_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (region, version)
    );

    CREATE TABLE recipient_preferences (
      recipient_hash text PRIMARY KEY,
      rcs            text NOT NULL CHECK (rcs IN ('opt-in', 'opt-out')),
      updated_at     timestamptz NOT NULL DEFAULT now()
    );

    -- What the guard workflow decided, read by routing on every message.
    CREATE TABLE rollout_guard (
      region       text PRIMARY KEY,
      throttled    boolean     NOT NULL,
      reason       text,
      fallback_rate numeric(6,4),
      sample_size  integer,
      changed_at   timestamptz NOT NULL DEFAULT now()
    );

    -- The guard measures fallback rates per region over recent audit rows.
    CREATE INDEX audit_log_region_time ON audit_log (region, occurred_at);
  `,
};
