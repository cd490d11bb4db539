// The activities, in groups that each take only the adapters they use. The worker builds the
// groups its task queue serves; workflows see only the types (proxyActivities<…>).

import { createDeliveryActivities } from './delivery';
import { createEscrowActivities } from './escrow';
import { createGuardActivities } from './guard';
import { createLawfulAccessActivities } from './lawful-access';
import { createProbeActivities } from './probes';
import { createRoutingActivities } from './routing';
import { createShortlinkActivities } from './shortlinks';

export { createDeliveryActivities, createEscrowActivities, createGuardActivities };
export { createLawfulAccessActivities, createRoutingActivities, createShortlinkActivities };
export { createProbeActivities };
export type { ProbeMeter, ProbeResultSink } from './probes';
export type { DeliveryDeps, RcsRevokeInput, RcsSendInput, SendAuditInput, SendAuditResult } from './delivery';
export type { SmsSendInput, SmsSent, AuditInput } from './delivery';
export type { DeliveryLookups, RecipientRef, RoutingDeps } from './routing';
export type { GuardDecision } from './guard';
export type { EscrowArchiveInput } from './escrow';

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
export type RoutingActivities = ReturnType<typeof createRoutingActivities>;
export type EscrowActivities = ReturnType<typeof createEscrowActivities>;
export type ShortlinkActivities = ReturnType<typeof createShortlinkActivities>;
export type GuardActivities = ReturnType<typeof createGuardActivities>;
export type LawfulAccessActivities = ReturnType<typeof createLawfulAccessActivities>;
export type ProbeActivities = ReturnType<typeof createProbeActivities>;

/** Everything a message's workflow calls. */
export type MessageActivities = DeliveryActivities &
  RoutingActivities &
  EscrowActivities &
  ShortlinkActivities;
