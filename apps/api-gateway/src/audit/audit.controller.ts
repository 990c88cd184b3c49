import { Controller, Get, Query } from '@nestjs/common';
import { API_VERSION } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import { AuthorizeCluster } from '../auth/authorize.decorator';
import { assertNamespaceName } from '../namespaces/namespaces.service';
import { AuditEventRepository } from './audit-event.repository';

const MAX_LIMIT = 1000;

@Controller('api/v1/auditevents')
export class AuditController {
  constructor(private readonly audit: AuditEventRepository) {}

  /** `?namespace=demo&limit=100`: the newest calls that changed something (cluster-admins only). */
  @Get()
  @AuthorizeCluster('list', 'auditevents')
  async list(@Query('namespace') namespace?: string, @Query('limit') limit = '100') {
    if (namespace !== undefined) assertNamespaceName(namespace);
    const count = Number(limit);
    if (!Number.isInteger(count) || count < 1 || count > MAX_LIMIT) throw ApiError.invalid('AuditEventList', undefined, 'limit', `must be an integer from 1 to ${MAX_LIMIT}`);
    return { apiVersion: API_VERSION, kind: 'AuditEventList', metadata: {}, items: await this.audit.list({ namespace, limit: count }) };
  }
}
