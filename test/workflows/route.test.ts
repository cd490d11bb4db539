// route() is pure: a table, no server.
import assert from 'node:assert/strict';
import type { DeliveryRequest, FallbackReason, RecipientCapability } from '../../domain/message';
import type { RoutingContext } from '../../domain/rollout';
import { effectiveFlow, route } from '../../workflows/route';
import type { RoutePlan } from '../../workflows/route';

type Request = Pick<DeliveryRequest, 'flow' | 'e2ee' | 'rcsCopy' | 'e2eePayload' | 'textIsNotice'>;
type Capability = Pick<RecipientCapability, 'rcs' | 'e2ee'> | null;

const PAYLOAD = { ciphertext: 'Y3Q=', negotiationMs: 1, newGroup: false };
const RCS_E2EE: Capability = { rcs: true, e2ee: true };
const RCS: Capability = { rcs: true, e2ee: false };
const NOT_RCS: Capability = { rcs: false, e2ee: false };

const context = (
  over: Partial<Omit<RoutingContext, 'config'>> & { config?: Partial<RoutingContext['config']> } = {},
): RoutingContext => {
  const { config, ...rest } = over;
  return {
    config: {
      region: 'us',
      version: 3,
      phase: 'rcs-default',
      pilotPercent: 0,
      killSwitch: false,
      flowOverrides: {},
      good: true,
      note: null,
      createdAt: null,
      ...config,
    },
    cohortBucket: 5000,
    preference: null,
    guardThrottled: false,
    ...rest,
  };
};

const std: Request = { flow: 'standard', e2ee: 'preferred' };

interface Row {
  name: string;
  request?: Partial<Request>;
  capability: Capability;
  context?: RoutingContext;
  expect: {
    steps: string;
    mode?: RoutePlan['mode'];
    reason: FallbackReason | null;
    supplementary?: boolean;
    phase?: string;
  };
}

// Steps written as the audit trail's `plan`: rcs+e2ee > rcs > sms.
const ROWS: Row[] = [
  { name: 'rcs-default, RCS user', capability: RCS, expect: { steps: 'rcs>sms', reason: null } },
  {
    name: 'E2EE possible: ciphertext first, then plain RCS, then SMS',
    request: { e2eePayload: PAYLOAD },
    capability: RCS_E2EE,
    expect: { steps: 'rcs+e2ee>rcs>sms', reason: null },
  },
  {
    name: 'E2EE payload but e2ee off: plain RCS',
    request: { e2ee: 'off', e2eePayload: PAYLOAD },
    capability: RCS_E2EE,
    expect: { steps: 'rcs>sms', reason: null },
  },
  {
    name: 'E2EE payload, recipient without E2EE: plain RCS',
    request: { e2eePayload: PAYLOAD },
    capability: RCS,
    expect: { steps: 'rcs>sms', reason: null },
  },
  {
    name: 'required, text not a notice: nothing at all',
    request: { e2ee: 'required' },
    capability: RCS_E2EE,
    expect: { steps: '', reason: 'e2ee_unavailable' },
  },
  {
    name: 'required, notice, no payload: the notice over RCS then SMS',
    request: { e2ee: 'required', textIsNotice: true },
    capability: RCS_E2EE,
    expect: { steps: 'rcs>sms', reason: 'e2ee_unavailable' },
  },
  {
    name: 'required, notice, RCS blocked: the notice over SMS',
    request: { e2ee: 'required', textIsNotice: true },
    capability: NOT_RCS,
    expect: { steps: 'sms', reason: 'e2ee_unavailable' },
  },
  {
    name: 'required with payload and E2EE recipient: ciphertext first',
    request: { e2ee: 'required', textIsNotice: true, e2eePayload: PAYLOAD },
    capability: RCS_E2EE,
    expect: { steps: 'rcs+e2ee>rcs>sms', reason: null },
  },
  {
    name: 'critical: SMS first, no copy asked',
    request: { flow: 'critical' },
    capability: RCS,
    expect: { steps: 'sms', reason: 'critical_sms_first', supplementary: false },
  },
  {
    name: 'critical with an RCS copy',
    request: { flow: 'critical', rcsCopy: true },
    capability: RCS,
    expect: { steps: 'sms', reason: 'critical_sms_first', supplementary: true },
  },
  {
    name: 'critical with an RCS copy, not an RCS user: no copy',
    request: { flow: 'critical', rcsCopy: true },
    capability: NOT_RCS,
    expect: { steps: 'sms', reason: 'critical_sms_first', supplementary: false },
  },
  {
    name: 'critical with an RCS copy, kill switch: no copy',
    request: { flow: 'critical', rcsCopy: true },
    capability: RCS,
    context: context({ config: { killSwitch: true } }),
    expect: { steps: 'sms', reason: 'critical_sms_first', supplementary: false },
  },
  {
    name: 'kill switch (before every other block)',
    capability: RCS,
    context: context({ config: { killSwitch: true }, guardThrottled: true, preference: 'opt-out' }),
    expect: { steps: 'sms', reason: 'kill_switch' },
  },
  {
    name: 'guard throttled (before opt-out)',
    capability: RCS,
    context: context({ guardThrottled: true, preference: 'opt-out' }),
    expect: { steps: 'sms', reason: 'guard_throttled' },
  },
  {
    name: 'opted out, even with E2EE possible',
    request: { e2eePayload: PAYLOAD },
    capability: RCS_E2EE,
    context: context({ preference: 'opt-out' }),
    expect: { steps: 'sms', reason: 'opted_out' },
  },
  {
    name: 'phase sms-only',
    capability: RCS,
    context: context({ config: { phase: 'sms-only' } }),
    expect: { steps: 'sms', reason: 'policy_sms_only', phase: 'sms-only' },
  },
  {
    name: 'a flow override to sms-only wins over the region phase',
    capability: RCS,
    context: context({ config: { flowOverrides: { standard: 'sms-only' } } }),
    expect: { steps: 'sms', reason: 'policy_sms_only', phase: 'sms-only' },
  },
  {
    name: 'capability unknown (probe failed)',
    capability: null,
    expect: { steps: 'sms', reason: 'capability_unavailable' },
  },
  { name: 'not an RCS user', capability: NOT_RCS, expect: { steps: 'sms', reason: 'not_rcs_capable' } },
  {
    name: 'pilot flow: dual',
    request: { flow: 'pilot' },
    capability: RCS,
    expect: { steps: 'rcs>sms', mode: 'dual', reason: null },
  },
  {
    name: 'pilot flow, not an RCS user: SMS only',
    request: { flow: 'pilot' },
    capability: NOT_RCS,
    expect: { steps: 'sms', reason: 'not_rcs_capable' },
  },
  {
    name: 'pilot phase, last bucket in the 10 % cohort: dual',
    capability: RCS,
    context: context({ cohortBucket: 999, config: { phase: 'pilot', pilotPercent: 10 } }),
    expect: { steps: 'rcs>sms', mode: 'dual', reason: null, phase: 'pilot' },
  },
  {
    name: 'pilot phase, first bucket outside the cohort',
    capability: RCS,
    context: context({ cohortBucket: 1000, config: { phase: 'pilot', pilotPercent: 10 } }),
    expect: { steps: 'sms', reason: 'not_in_cohort', phase: 'pilot' },
  },
  {
    name: 'rcs-first, opted in',
    capability: RCS,
    context: context({ preference: 'opt-in', config: { phase: 'rcs-first' } }),
    expect: { steps: 'rcs>sms', reason: null, phase: 'rcs-first' },
  },
  {
    name: 'rcs-first, no preference',
    capability: RCS,
    context: context({ config: { phase: 'rcs-first' } }),
    expect: { steps: 'sms', reason: 'not_in_cohort', phase: 'rcs-first' },
  },
];

const stepsOf = (plan: RoutePlan) =>
  plan.steps.map((s) => (s.channel === 'rcs' && s.e2ee ? 'rcs+e2ee' : s.channel)).join('>');

describe('route(): the routing table', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const plan = route({ ...std, ...row.request }, row.capability, row.context ?? context());
      assert.deepEqual(
        {
          steps: stepsOf(plan),
          mode: plan.mode,
          reason: plan.reason,
          supplementary: plan.supplementaryRcs,
          phase: plan.phase,
          configVersion: plan.configVersion,
        },
        {
          steps: row.expect.steps,
          mode: row.expect.mode ?? 'sequential',
          reason: row.expect.reason,
          supplementary: row.expect.supplementary ?? false,
          phase: row.expect.phase ?? 'rcs-default',
          configVersion: 3,
        },
      );
    });
  }

  it('has a row for every reason route() decides (the others come from delivery, not routing)', () => {
    const decided = new Set(ROWS.map((r) => r.expect.reason ?? 'none'));
    assert.deepEqual([...decided].sort(), [
      'capability_unavailable',
      'critical_sms_first',
      'e2ee_unavailable',
      'guard_throttled',
      'kill_switch',
      'none',
      'not_in_cohort',
      'not_rcs_capable',
      'opted_out',
      'policy_sms_only',
    ]);
  });

  it('a dual plan runs as the pilot flow; a sequential one keeps the request flow', () => {
    const dual = route(std, RCS, context({ cohortBucket: 0, config: { phase: 'pilot', pilotPercent: 1 } }));
    assert.equal(effectiveFlow(std, dual), 'pilot');
    assert.equal(effectiveFlow(std, route(std, RCS, context())), 'standard');
  });
});
