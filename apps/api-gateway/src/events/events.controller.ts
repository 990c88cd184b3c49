import { Controller, Delete, Get, Param, Post, Put, Query } from '@nestjs/common';
import { resourceList } from '@paas/platform/rpc-input';
import { ApiError } from '@paas/platform/api-error';
import { Authorize } from '../auth/authorize.decorator';
import { ReadEvents } from './read-events.usecase';

/** `/api/v1/namespaces/{ns}/events[/{name}]`: read with `view`; written only by the platform's recorder. */
@Controller('api/v1/namespaces/:namespace/events')
export class EventsController {
  constructor(private readonly events: ReadEvents) {}

  /** `?fieldSelector=involvedObject.name=web-1-abcde,type=Warning` */
  @Get()
  @Authorize('list', 'events')
  async list(@Param('namespace') namespace: string, @Query('fieldSelector') fieldSelector?: unknown) {
    return resourceList('Event', await this.events.list(namespace, fieldSelector));
  }

  @Get(':name')
  @Authorize('get', 'events')
  get(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.events.get(namespace, name);
  }

  @Post()
  @Authorize('create', 'events')
  create(): never {
    throw readOnly('created');
  }

  @Put(':name')
  @Authorize('update', 'events')
  update(): never {
    throw readOnly('updated');
  }

  @Delete(':name')
  @Authorize('delete', 'events')
  delete(): never {
    throw readOnly('deleted');
  }
}

function readOnly(verb: string): ApiError {
  return ApiError.of('MethodNotAllowed', `events cannot be ${verb} through the API: the platform records them; allowed: get, list`);
}
