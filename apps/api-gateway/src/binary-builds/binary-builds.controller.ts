import { Controller, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { UploadBinaryBuild } from './upload-binary-build.usecase';

/**
 * `oc start-build --from-dir/--from-archive/--from-file`: a new Build of a Binary BuildConfig
 * from the request body (a tar, tar.gz or zip of a directory, or with `?asFile=<name>` one
 * file), at the platform's path and at OpenShift's.
 */
@Controller(['api/v1/namespaces/:namespace/buildconfigs/:name', 'apis/build.openshift.io/v1/namespaces/:namespace/buildconfigs/:name'])
export class BinaryBuildsController {
  constructor(private readonly upload: UploadBinaryBuild) {}

  @Post('instantiatebinary')
  @HttpCode(201)
  @Authorize('instantiate', 'buildconfigs')
  instantiate(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.upload.execute({ namespace, name, query, body: request.body as Readable | undefined, uploader: principal.name });
  }
}
