import { Module } from '@nestjs/common';
import { NodeImageCollector } from './image-collector';
import { NodeMonitor } from './node-monitor';
import { NodesRpc } from './nodes.rpc';
import { NodesService } from './nodes.service';

/** The Node API, the monitor that keeps every node's readiness, and the garbage collection of their images. */
@Module({ providers: [NodesService, NodesRpc, NodeMonitor, NodeImageCollector] })
export class NodesModule {}
