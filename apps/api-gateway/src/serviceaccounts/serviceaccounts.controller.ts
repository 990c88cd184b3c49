import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { API_VERSION } from '@paas/contracts/meta';
import { resourceList } from '@paas/platform/rpc-input';
import { Authorize } from '../auth/authorize.decorator';
import { ServiceAccountsService } from './serviceaccounts.service';

/** `/api/v1/namespaces/{ns}/serviceaccounts[/{name}[/tokens]]`. */
@Controller('api/v1/namespaces/:namespace/serviceaccounts')
export class ServiceAccountsController {
  constructor(private readonly serviceAccounts: ServiceAccountsService) {}

  @Post()
  @HttpCode(201)
  @Authorize('create', 'serviceaccounts')
  create(@Param('namespace') namespace: string, @Body() body: unknown) {
    return this.serviceAccounts.create(namespace, body);
  }

  @Get()
  @Authorize('list', 'serviceaccounts')
  async list(@Param('namespace') namespace: string) {
    return resourceList('ServiceAccount', await this.serviceAccounts.list(namespace));
  }

  @Get(':name')
  @Authorize('get', 'serviceaccounts')
  get(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.serviceAccounts.get(namespace, name);
  }

  @Delete(':name')
  @Authorize('delete', 'serviceaccounts')
  delete(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.serviceAccounts.delete(namespace, name);
  }

  /** A token that acts as the service account: whoever holds it has its roles, so only admins mint one. */
  @Post(':name/tokens')
  @HttpCode(201)
  @Authorize('create', 'serviceaccounts/token')
  createToken(@Param('namespace') namespace: string, @Param('name') name: string, @Body() body: unknown) {
    return this.serviceAccounts.createToken(namespace, name, body);
  }

  /** Its tokens (names, times; never the tokens): revoke one with `DELETE /api/v1/tokens/{name}`. */
  @Get(':name/tokens')
  @Authorize('list', 'serviceaccounts/token')
  async listTokens(@Param('namespace') namespace: string, @Param('name') name: string) {
    return { apiVersion: API_VERSION, kind: 'APITokenList', metadata: {}, items: await this.serviceAccounts.listTokens(namespace, name) };
  }
}
