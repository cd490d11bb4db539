import type { Logger } from 'pino';
import type { CapabilityProbe, ChannelSet, RegionalChannels } from '../activities/deps';
import { RegionUnservedError } from '../channels/region-errors';
import { CapabilityCache } from '../channels/rcs/capability-cache';
import { CachedCapabilityProbe } from '../channels/rcs/cached-capability-probe';
import { RbmHubClient } from '../channels/rcs/rbm-client';
import { staticTokenProvider } from '../channels/rcs/token';
import { SmppGateway } from '../channels/sms/smpp-gateway';
import type { SmppGatewayOptions } from '../channels/sms/smpp-gateway';
import type { SmsGateway } from '../channels/sms/types';
import type { Env } from '../config';
import type { RegionEndpoint } from '../config/regions';
import type { CapabilityTtls, SharedCapabilityStore } from '../channels/rcs/capability-cache';
import type { ChannelMeters, SmppState } from '../metrics/channel-meters';

function parseRegionTtls(spec: string | undefined): Record<string, { freshTtlMs: number; maxAgeMs: number }> {
  const ttls: Record<string, { freshTtlMs: number; maxAgeMs: number }> = {};
  for (const entry of spec ? spec.split(',') : []) {
    const [region = '', times = ''] = entry.split('=');
    const [fresh, maxAge] = times.split('/').map(Number);
    ttls[region] = { freshTtlMs: fresh ?? 0, maxAgeMs: maxAge ?? 0 };
  }
  return ttls;
}

/** The home region's endpoints come from the top-level variables, the others from REGION_ENDPOINTS. */
function endpointsOf(env: Env): Map<string, Required<RegionEndpoint>> {
  const home: Required<RegionEndpoint> = {
    rcsHubUrl: env.RCS_HUB_URL,
    rcsAgentId: env.RCS_AGENT_ID,
    rcsHubToken: env.RCS_HUB_TOKEN,
    smppHost: env.SMPP_HOST,
    smppPort: env.SMPP_PORT,
    smppSystemId: env.SMPP_SYSTEM_ID,
    smppPassword: env.SMPP_PASSWORD,
    smppSourceAddr: env.SMPP_SOURCE_ADDR,
  };
  const all = new Map([[env.HOME_REGION, home]]);
  for (const [region, e] of Object.entries(env.REGION_ENDPOINTS)) {
    if (region === env.HOME_REGION) continue;
    all.set(region, {
      rcsHubUrl: e.rcsHubUrl,
      rcsAgentId: e.rcsAgentId ?? home.rcsAgentId,
      rcsHubToken: e.rcsHubToken ?? home.rcsHubToken,
      smppHost: e.smppHost,
      smppPort: e.smppPort,
      smppSystemId: e.smppSystemId ?? home.smppSystemId,
      smppPassword: e.smppPassword ?? home.smppPassword,
      smppSourceAddr: e.smppSourceAddr ?? home.smppSourceAddr,
    });
  }
  return all;
}

/** A gateway configured from env for one region's SMSC (the bench's raw-SMPP baseline uses it too). */
export function smppGatewayOptions(
  env: Env,
  endpoint: Pick<RegionEndpoint, 'smppHost' | 'smppPort'> & Partial<RegionEndpoint> = {
    smppHost: env.SMPP_HOST,
    smppPort: env.SMPP_PORT,
  },
): SmppGatewayOptions {
  return {
    host: endpoint.smppHost,
    port: endpoint.smppPort,
    systemId: endpoint.smppSystemId ?? env.SMPP_SYSTEM_ID,
    password: endpoint.smppPassword ?? env.SMPP_PASSWORD,
    sourceAddr: endpoint.smppSourceAddr ?? env.SMPP_SOURCE_ADDR,
    windowSize: env.SMPP_WINDOW,
    systemType: env.SMPP_SYSTEM_TYPE,
    bindMode: env.SMPP_BIND_MODE,
    ratePerSecond: env.SMPP_RATE_PER_SECOND,
    gsmDataCoding: env.SMPP_GSM_DATA_CODING,
    longMessages: env.SMPP_LONG_MESSAGES,
    submitTimeoutMs: env.SMPP_SUBMIT_TIMEOUT_MS,
  };
}

/** The RBM agents of every region: the webhook accepts events for these only. */
export function rcsAgentIds(env: Env): string[] {
  return [...new Set([...endpointsOf(env).values()].map((e) => e.rcsAgentId))];
}

/**
 * One RCS hub client, SMPP gateway and capability cache per residency region. A message only
 * ever reaches its own region's set; a region without one is refused (RegionUnservedError).
 */
export function buildRegionalChannels(
  env: Env,
  options: {
    sharedCapabilities: SharedCapabilityStore;
    logger: Logger;
    meters?: (region: string) => ChannelMeters;
  },
): RegionalChannels & {
  gateways(): SmsGateway[];
  regions(): string[];
  agentIds(): string[];
  smppStates(): Map<string, SmppState>;
  retuneCapabilityCache(region: string, ttls: CapabilityTtls | null): void;
} {
  const sets = new Map<string, ChannelSet>();
  const caches = new Map<string, CapabilityCache>();
  const smpp = new Map<string, SmppGateway>();
  for (const [region, e] of endpointsOf(env)) {
    const logger = options.logger.child({ region });
    const meters = options.meters?.(region);
    const rcsHub = new RbmHubClient({
      baseUrl: e.rcsHubUrl,
      agentId: e.rcsAgentId,
      tokenProvider: staticTokenProvider(e.rcsHubToken),
      timeoutMs: env.RCS_HUB_TIMEOUT_MS,
      logger: logger.child({ component: 'rcs-hub' }),
      ...(meters ? { meter: meters.rcsHub } : {}),
    });
    const smsGateway = new SmppGateway({
      ...smppGatewayOptions(env, e),
      logger: logger.child({ component: 'smpp' }),
      ...(meters ? { meter: meters.smpp } : {}),
    });
    smpp.set(region, smsGateway);
    const cache = new CapabilityCache({
      hub: rcsHub,
      shared: options.sharedCapabilities,
      ttls: { freshTtlMs: env.CAPABILITY_FRESH_TTL_MS, maxAgeMs: env.CAPABILITY_MAX_AGE_MS },
      regionOf: () => region,
      regionTtls: parseRegionTtls(env.CAPABILITY_REGION_TTLS),
      logger: logger.child({ component: 'capability-cache' }),
      ...(meters ? { meter: meters.capabilities } : {}),
    });
    caches.set(region, cache);
    const capabilities: CapabilityProbe = new CachedCapabilityProbe(cache);
    sets.set(region, { rcsHub, smsGateway, capabilities });
  }
  return {
    forRegion(region: string): ChannelSet {
      const set = sets.get(region);
      if (!set) throw new RegionUnservedError(region);
      return set;
    },
    gateways: () => [...sets.values()].map((s) => s.smsGateway),
    regions: () => [...sets.keys()],
    agentIds: () => rcsAgentIds(env),
    smppStates: () => new Map([...smpp].map(([region, g]) => [region, g])),
    retuneCapabilityCache: (region, ttls) => caches.get(region)?.retune(ttls),
  };
}
