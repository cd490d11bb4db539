import type { MediaRef } from '../domain/message';
import type { MediaObjectSource, ShortlinkIssuer } from './deps';
import { mappingFailures } from './failures';
import { matchingMedia } from './media-ref';
import type { RecipientRef } from './routing';

export interface ShortlinkInput extends RecipientRef {
  /** The uploads of this tenant only are found. */
  tenant: string;
  media: MediaRef;
}

/** Recipe A: the uploaded media, loaded for its tenant, then encrypted behind a link bound to the recipient. */
export function createShortlinkActivities(deps: {
  shortlinks: ShortlinkIssuer;
  mediaObjects: MediaObjectSource;
}) {
  return {
    async createShortlink(input: ShortlinkInput): Promise<{ url: string }> {
      const media = await mappingFailures(async () =>
        matchingMedia(input.media, await deps.mediaObjects.load(input.media.mediaId, input.tenant)),
      );
      const { url } = await deps.shortlinks.create({
        messageId: input.messageId,
        recipient: input.to,
        media: media.data,
        contentType: media.contentType,
        fileName: media.fileName,
      });
      return { url };
    },
  };
}
