import type { Flow } from './message';

export const PHASES = ['sms-only', 'pilot', 'rcs-first', 'rcs-default'] as const;
export type Phase = (typeof PHASES)[number];

export type RcsPreference = 'opt-in' | 'opt-out';

/** One version of a region's rollout, as stored; routing decisions name the version they used. */
export interface RolloutConfig {
  region: string;
  /** 0 = the built-in default, never stored. */
  version: number;
  phase: Phase;
  /** Share of recipients in the pilot cohort, 0–100. */
  pilotPercent: number;
  killSwitch: boolean;
  flowOverrides: Partial<Record<Flow, Phase>>;
  good: boolean;
  note: string | null;
  createdAt: string | null;
}

/** Everything routing needs beyond the capability, read in one activity so replay sees it as recorded. */
export interface RoutingContext {
  config: RolloutConfig;
  /** The recipient's stable position 0–9999 in the cohort order (keyed hash). */
  cohortBucket: number;
  preference: RcsPreference | null;
  guardThrottled: boolean;
}

export function inPilotCohort(bucket: number, pilotPercent: number): boolean {
  return bucket < Math.round(pilotPercent * 100);
}
