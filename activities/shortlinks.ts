import type { MediaAttachment } from '../domain/message';
import type { ShortlinkIssuer } from './deps';
import type { RecipientRef } from './routing';

/** Recipe A: the media, encrypted at rest behind a link bound to the recipient. */
export function createShortlinkActivities(deps: { shortlinks: ShortlinkIssuer }) {
  return {
    async createShortlink(input: RecipientRef & { media: MediaAttachment }): Promise<{ url: string }> {
      const { url } = await deps.shortlinks.create({
        messageId: input.messageId,
        recipient: input.to,
        media: Buffer.from(input.media.data, 'base64'),
        contentType: input.media.contentType,
        fileName: input.media.fileName,
      });
      return { url };
    },
  };
}
