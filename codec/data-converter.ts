import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec, parseCodecKeys } from './aes-gcm-codec';

export interface CodecSettings {
  codecKeys: string;
  activeKeyId: string;
}

/** The one data converter client, worker and replay tests share. */
export function createDataConverter(settings: CodecSettings): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(parseCodecKeys(settings.codecKeys), settings.activeKeyId)],
    // Failure messages and stack traces travel as encoded payloads too.
    failureConverterPath: require.resolve('./failure-converter'),
  };
}

export function codecOf(converter: DataConverter): PayloadCodec {
  const codec = converter.payloadCodecs?.[0];
  if (!codec) throw new Error('the data converter has no payload codec');
  return codec;
}
