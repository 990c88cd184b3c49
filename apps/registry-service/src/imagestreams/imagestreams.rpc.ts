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
    this.rpc.handle('imagestreams.create', (request) => this.imageStreams.create(request));
    this.rpc.handle('imagestreams.get', (request) => this.imageStreams.get(request));
    this.rpc.handle('imagestreams.list', (request) => this.imageStreams.list(request));
    this.rpc.handle('imagestreams.update', (request) => this.imageStreams.update(request));
    this.rpc.handle('imagestreams.delete', (request) => this.imageStreams.delete(request));
    this.rpc.handle('imagestreamtags.get', (request) => this.imageStreams.getTag(request));
  }
}
