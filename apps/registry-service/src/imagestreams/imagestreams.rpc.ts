import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { ImageStreamsService } from './imagestreams.service';

/** `imagestreams.<verb>` over NATS request/reply, answered by the use cases. */
@Injectable()
export class ImageStreamsRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly imageStreams: ImageStreamsService,
  ) {}

  onModuleInit() {
    this.rpc.serve('imagestreams', this.imageStreams);
    this.rpc.handle('imagestreamtags.get', (request) => this.imageStreams.getTag(request));
  }
}
