export { deliverMessage } from './deliver-message';
export { deliverOverChannel } from './deliver-over-channel';
export { rolloutGuard } from './rollout-guard';
export { lawfulAccess } from './lawful-access';
export { syntheticProbe } from './synthetic-probe';
