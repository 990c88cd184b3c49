import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CreateAppUseCase } from './create-app.usecase';

@Controller('api/v1/namespaces/:namespace/apps')
export class AppsController {
  constructor(private readonly createApp: CreateAppUseCase) {}

  @Post()
  @HttpCode(201)
  create(@Param('namespace') namespace: string, @Body() body: unknown) {
    return this.createApp.execute(namespace, body);
  }
}
