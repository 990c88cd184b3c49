import { Module } from '@nestjs/common';
import { NodeMonitor } from './node-monitor';
import { NodesRpc } from './nodes.rpc';
import { NodesService } from './nodes.service';

/** The Node API and the monitor that keeps every node's readiness. */
@Module({ providers: [NodesService, NodesRpc, NodeMonitor] })
export class NodesModule {}
