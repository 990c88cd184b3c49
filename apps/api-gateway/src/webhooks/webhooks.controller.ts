import { Controller, HttpCode, Param, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { WEBHOOK_TYPES, type WebhookType } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import type { FastifyRequest } from 'fastify';
import { assertNamespaceName } from '../namespaces/namespaces.service';

/**
 * OpenShift's build webhooks, at OpenShift's paths: a git host (or anyone holding the secret)
 * starts a build of a BuildConfig without an API token; the secret on the URL is the
 * credential, checked by the build-service against the BuildConfig's triggers. The body goes
 * on as received, for GitHub's signature. The audit trail and traces show the path with the
 * secret replaced (`redactUrlSecrets` in libs/platform/src/tracing.ts).
 */
@Controller('apis/build.openshift.io/v1/namespaces/:namespace/buildconfigs/:name/webhooks/:secret')
export class WebhooksController {
  constructor(private readonly rpc: RpcClient) {}

  @Post(':type')
  @HttpCode(200)
  receive(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Param('secret') secret: string,
    @Param('type') type: string,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ) {
    assertNamespaceName(namespace);
    if (!WEBHOOK_TYPES.includes(type as WebhookType)) throw ApiError.of('NotFound', `no webhook of type "${type.slice(0, 64)}": use ${WEBHOOK_TYPES.join(' or ')}`);
    const header = (field: string) => {
      const value = request.headers[field];
      return typeof value === 'string' ? value : undefined;
    };
    return this.rpc.request('buildconfigs.webhook', {
      namespace,
      name,
      type: type as WebhookType,
      secret,
      contentType: header('content-type'),
      githubEvent: header('x-github-event'),
      signature: header('x-hub-signature-256'),
      body: request.rawBody?.toString('utf8'),
    });
  }
}
