import { statusOf } from '@paas/platform/api-error';
import type { RpcClient } from '@paas/platform/rpc';

export const BUILDER_STREAMS = Symbol('BUILDER_STREAMS');

/** What a builder's ImageStreamTag points at, asked of the registry-service. */
export interface BuilderStreams {
  /** The tag's image as its pull spec by digest (`<registry>/<ns>/<stream>@sha256:…`); undefined when the namespace has no such tag. */
  imageOf(namespace: string, name: string): Promise<string | undefined>;
}

export class RpcBuilderStreams implements BuilderStreams {
  constructor(private readonly rpc: Pick<RpcClient, 'request'>) {}

  async imageOf(namespace: string, name: string): Promise<string | undefined> {
    try {
      return (await this.rpc.request('imagestreamtags.get', { namespace, name })).image.dockerImageReference;
    } catch (error) {
      if (statusOf(error).code === 404) return undefined;
      throw error;
    }
  }
}
