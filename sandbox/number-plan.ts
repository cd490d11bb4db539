// How the sandbox carriers treat a number, from DESIGN.md's number plan. The SMSC simulator,
// the RCS hub simulator and the simulated phones all read this one table.
import type { ProbeRecipient } from '../domain/probes';

export interface SandboxBehaviour {
  /** Capability lookup answers 200 with these features; false means 404 (not an RCS user). */
  rcs: boolean;
  e2ee: boolean;
  media: boolean;
  /** How many sends of one message id the hub answers 503 before accepting. */
  rcsTransientFailures: number;
  /** The hub rejects sends to this number with 400. */
  rcsRejects: boolean;
  /** The phone is offline: sends are accepted, no DELIVERED event ever comes. */
  rcsOffline: boolean;
  /** The SMSC's receipt for this number. */
  smsFinalState: 'DELIVRD' | 'UNDELIV';
  region: string;
}

export interface NumberPlanRow {
  prefix: string;
  description: string;
  behaviour: SandboxBehaviour;
}

const base: SandboxBehaviour = {
  rcs: true,
  e2ee: false,
  media: true,
  rcsTransientFailures: 0,
  rcsRejects: false,
  rcsOffline: false,
  smsFinalState: 'DELIVRD',
  region: 'us',
};

export const DEFAULT_NUMBER_PLAN: NumberPlanRow[] = [
  { prefix: '+1555010', description: 'RCS with E2EE, media, delivers', behaviour: { ...base, e2ee: true } },
  { prefix: '+1555020', description: 'RCS without E2EE, media, delivers', behaviour: { ...base } },
  { prefix: '+1555030', description: 'not an RCS user; SMS delivers', behaviour: { ...base, rcs: false } },
  {
    prefix: '+1555040',
    description: 'RCS, first send answered 503, then delivers',
    behaviour: { ...base, rcsTransientFailures: 1 },
  },
  {
    prefix: '+1555050',
    description: 'RCS, phone offline (no receipt); SMS delivers',
    behaviour: { ...base, rcsOffline: true },
  },
  {
    prefix: '+1555060',
    description: 'RCS send rejected (400); SMS delivers',
    behaviour: { ...base, rcsRejects: true },
  },
  {
    prefix: '+1555070',
    description: 'not an RCS user; SMSC returns UNDELIV',
    behaviour: { ...base, rcs: false, smsFinalState: 'UNDELIV' },
  },
  { prefix: '+1555080', description: 'RCS text only (no media)', behaviour: { ...base, media: false } },
  {
    prefix: '+447700900',
    description: 'region eu: RCS with E2EE',
    behaviour: { ...base, e2ee: true, region: 'eu' },
  },
  // The synthetic probes' recipients (SANDBOX_PROBE_RECIPIENTS): one per capability and region.
  { prefix: '+15550901', description: 'probe: RCS with E2EE, delivers', behaviour: { ...base, e2ee: true } },
  { prefix: '+15550902', description: 'probe: RCS without E2EE, delivers', behaviour: { ...base } },
  {
    prefix: '+15550903',
    description: 'probe: not an RCS user; SMS delivers',
    behaviour: { ...base, rcs: false },
  },
  {
    prefix: '+447700900901',
    description: 'probe, region eu: RCS with E2EE, delivers',
    behaviour: { ...base, e2ee: true, region: 'eu' },
  },
  {
    prefix: '+447700900902',
    description: 'probe, region eu: RCS without E2EE, delivers',
    behaviour: { ...base, region: 'eu' },
  },
  {
    prefix: '+447700900903',
    description: 'probe, region eu: not an RCS user; SMS delivers',
    behaviour: { ...base, rcs: false, region: 'eu' },
  },
];

/** The sandbox's synthetic recipients per region (PROBE_RECIPIENTS' default while SANDBOX=true). */
export const SANDBOX_PROBE_RECIPIENTS: Record<string, ProbeRecipient[]> = {
  us: [
    { carrier: 'sandbox', capability: 'rcs-e2ee', to: '+15550901001' },
    { carrier: 'sandbox', capability: 'rcs', to: '+15550902001' },
    { carrier: 'sandbox', capability: 'sms', to: '+15550903001' },
  ],
  eu: [
    { carrier: 'sandbox', capability: 'rcs-e2ee', to: '+447700900901' },
    { carrier: 'sandbox', capability: 'rcs', to: '+447700900902' },
    { carrier: 'sandbox', capability: 'sms', to: '+447700900903' },
  ],
};

/** Numbers outside the plan behave like ordinary SMS-only phones. */
const fallbackRow: SandboxBehaviour = { ...base, rcs: false };

export function behaviourFor(msisdn: string, plan: NumberPlanRow[] = DEFAULT_NUMBER_PLAN): SandboxBehaviour {
  let best: NumberPlanRow | undefined;
  for (const row of plan) {
    if (msisdn.startsWith(row.prefix) && (!best || row.prefix.length > best.prefix.length)) best = row;
  }
  return best ? best.behaviour : fallbackRow;
}
