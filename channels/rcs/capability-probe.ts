import type { RecipientCapability } from '../../domain/message';
import type { RcsCapabilities } from './types';
import { RCS_FEATURE_E2EE_MLS, RCS_FEATURE_RICHCARD } from './types';

/** What routing needs to know, read from an RBM capability answer (null: not an RCS user). */
export function capabilityFromFeatures(answer: RcsCapabilities | null): Omit<RecipientCapability, 'source'> {
  if (!answer) return { rcs: false, e2ee: false, media: false };
  return {
    rcs: true,
    e2ee: answer.features.includes(RCS_FEATURE_E2EE_MLS),
    // RICHCARD_STANDALONE, not our FILE_TRANSFER_HTTP: Google's RBM never answers the extension,
    // so testing it would make every phone text-only there, while a standalone card is both a
    // real RBM feature and how toAgentMessage carries text with a file. The sandbox hub answers
    // the two together, so there they agree (docs/rcs-hub-api.md).
    media: answer.features.includes(RCS_FEATURE_RICHCARD),
  };
}
