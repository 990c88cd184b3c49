import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listsFromCache } from '@paas/platform/informer';
import { listResponse } from '@paas/platform/rpc-input';
import { ApiError } from '@paas/platform/api-error';
import { z } from 'zod';
import { DeployInformers } from '../informers';
import { PodLogs } from './pod-logs';
import { podView } from './pod-view';
import { PodRepository } from './pod.repository';

const logOptions = z
  .object({
    tailLines: z.number().int().min(0).max(100_000).optional(),
    timestamps: z.boolean().optional(),
    previous: z.boolean().optional(),
    sinceTime: z.string().max(64).optional(),
  })
  .strict();

/** Read-only: pods are made and removed by the ReplicationController controller; their logs come from their node. */
@Injectable()
export class PodsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(PodRepository) private readonly pods: PodRepository,
    @Inject(PodLogs) private readonly logs: PodLogs,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'pods'>,
  ) {}

  onModuleInit() {
    this.rpc.handle('pods.get', async ({ namespace, name }) => podView(await this.pods.get(namespace, name)));
    this.rpc.handle('pods.list', (request) => listResponse('Pod', listsFromCache(this.informers.pods, this.pods), request, podView));
    this.rpc.handle('pods.log', ({ namespace, name, ...query }) => {
      const options = logOptions.safeParse(query);
      if (!options.success) {
        const [issue] = options.error.issues;
        throw ApiError.invalid('PodLogOptions', name, issue.path.join('.') || 'query', issue.message);
      }
      return this.logs.read(namespace, name, options.data);
    });
  }
}
