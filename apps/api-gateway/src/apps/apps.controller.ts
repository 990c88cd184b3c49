import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { CreateAppUseCase } from './create-app.usecase';

@Controller('api/v1/namespaces/:namespace/apps')
export class AppsController {
  constructor(private readonly createApp: CreateAppUseCase) {}

  @Post()
  @HttpCode(201)
  @Authorize('create', 'apps')
  create(@Param('namespace') namespace: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.createApp.execute(namespace, body, principal);
  }
}
