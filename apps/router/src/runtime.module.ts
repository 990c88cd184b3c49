import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { RouterState } from './table/router-state';
import { RouterRuntime } from './runtime';

export const ROUTER_CONFIG = Symbol('ROUTER_CONFIG');

@Injectable()
class RuntimeLifecycle implements OnApplicationShutdown {
  constructor(@Inject(RouterRuntime) private readonly runtime: RouterRuntime) {}

  async onApplicationShutdown() {
    await this.runtime.close();
  }
}

/** Hands the already-running runtime (state, config) to the NestJS side, and closes it on shutdown. */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(runtime: RouterRuntime): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: RouterRuntime, useValue: runtime },
        { provide: RouterState, useValue: runtime.state },
        { provide: ROUTER_CONFIG, useValue: runtime.config },
        RuntimeLifecycle,
      ],
      exports: [RouterState, ROUTER_CONFIG],
    };
  }
}
